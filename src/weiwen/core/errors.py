"""Exit codes and the one exception type that carries a user-facing Chinese message."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Stable exit codes shared by every command (documented in README and docs/cli.md)."""

    OK = 0  # no errors found
    PROBLEMS = 1  # the inputs have errors (details in the report)
    USAGE = 2  # bad options, missing or unreadable input, bad configuration
    LOCKED = 3  # another run holds the lock
    INTERNAL = 4  # a bug in weiwen: the inputs were not changed


class WeiwenError(Exception):
    """An error the user can fix: the message is Chinese and says what to do."""

    exit_code = ExitCode.USAGE

    def __init__(self, message: str, *, code: str = "usage", exit_code: ExitCode | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        if exit_code is not None:
            self.exit_code = exit_code


_ERRNO_ZH = {
    "EACCES": "没有权限", "EPERM": "没有权限", "ENOENT": "不存在", "EISDIR": "这是一个文件夹，不是文件",
    "ENOTDIR": "路径中有一部分是文件，不是文件夹", "ENOSPC": "磁盘已满", "EDQUOT": "磁盘配额已满",
    "EROFS": "磁盘是只读的", "EBUSY": "正被其他程序占用", "ETXTBSY": "正被其他程序占用",
    "ENAMETOOLONG": "路径太长", "ELOOP": "符号链接绕成了圈", "EEXIST": "已经存在", "EIO": "磁盘读写出错",
    "EINVAL": "文件名不合法", "EMFILE": "同时打开的文件太多", "ENFILE": "同时打开的文件太多",
}
_DAMAGE_ZH = {  # what a damaged file's exception says, by class name (the classes live in several libraries)
    "BadZipFile": "压缩包结构损坏", "ZipError": "压缩包结构损坏", "error": "压缩数据损坏", "EOFError": "文件不完整",
    "XmlError": "表格内容（XML）损坏", "ParseError": "表格内容（XML）损坏", "CalamineError": "表格无法解析",
    "XLRDError": "表格无法解析", "CompDocError": "表格无法解析", "ValueError": "内容不合格式", "KeyError": "缺少必要的部分",
    "UnicodeDecodeError": "文字编码无法识别",
}


def system_reason(exc: BaseException) -> str:
    """Why the system refused, in Chinese (the system's own words are English): by errno for an
    OSError, by the exception's kind for a damaged file."""
    import errno

    if isinstance(exc, OSError) and exc.errno is not None:
        name = errno.errorcode.get(exc.errno, "")
        return _ERRNO_ZH.get(name, f"系统错误，编号 {exc.errno}")
    return _DAMAGE_ZH.get(type(exc).__name__, "无法解析")
