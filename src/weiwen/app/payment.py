"""Bank batches of an approved list version and the bank's return files (``weiwen payment``).

A batch carries every household of the latest approved version with cash and an account that is
neither paid nor waiting for the bank in an earlier batch of the campaign, so no household is sent
twice.  A return file is matched to its batch by account, to the cent; failed lines go into a
re-payment batch, and the approved cash total is reconciled against every batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from weiwen.app.campaign import version_of
from weiwen.core.errors import ExitCode, WeiwenError
from weiwen.model.bank import BankLayout, PayLine
from weiwen.read.allocation_csv import PaymentList, read_allocation_csv


def _approved(folder: Path, ledger_url: str | None, operator: str | None):  # type: ignore[no-untyped-def]
    from weiwen.ledger import versions

    m, ledger, v = version_of(folder, ledger_url, operator)
    if not v.approved_at:
        raise WeiwenError(f"{folder} 的第 {v.number} 版还没有审批：代发文件只能从审批过的版本生成（weiwen approve）。",
                          code="version-not-approved")
    later = [x.number for x in versions.listing(ledger, m.campaign) if x.approved_at and x.number > v.number]
    if later:
        raise WeiwenError(f"{folder} 的第 {v.number} 版已被审批过的第 {later[-1]} 版取代，不能再用于发放："
                          f"请使用第 {later[-1]} 版的核定结果文件夹。", code="version-superseded")
    if v.approved_outputs != m.outputs_digest:
        raise WeiwenError(f"{folder} 的文件与审批时不同，不能用于发放。", code="version-files-changed")
    return m, ledger, v


@dataclass
class Batch:
    number: int
    lines: int
    total: Decimal
    book: Path | None  # None: nothing left to send
    without_account: list[str]  # households with cash but no card: paid in cash or after the card is added
    already: int = 0  # households left out: paid, or waiting for the bank, in an earlier batch


def pay_lines(payments: PaymentList, title: str) -> tuple[list[PayLine], list[str]]:
    lines, without = [], []
    for r in payments.rows:
        if r.cash <= 0:
            continue
        if not r.bank_card.strip():
            without.append(f"{r.village} {r.head_name}（{r.code}）{r.cash:.2f} 元")
            continue
        lines.append(PayLine(code=r.code, village=r.village, name=r.head_name, account=r.bank_card.strip(),
                             bank=r.bank_name, amount=r.cash, id_number=r.id_number, phone=r.phone, memo=title))
    return lines, without


def refuse_bad_lines(lines: list[PayLine], layout: BankLayout) -> None:
    """Lines a bank file cannot carry, refused before the batch is registered (nothing recorded)."""
    from weiwen.sheets.payment_book import check_lines

    bad = check_lines(lines, layout)
    if bad:
        body = "\n".join(f"  - {b}" for b in bad)
        raise WeiwenError(f"有 {len(bad)} 笔无法代发，代发文件没有生成，台账中也没有登记这一批：\n{body}\n"
                          "请在花名册中补正账号、户名或金额后重新核定、审批。", code="payment-lines-invalid")


def make_batch(folder: Path, ledger_url: str | None, layout: BankLayout, operator: str | None) -> Batch:
    """The next bank batch of an approved version: every household with cash and an account that is
    neither paid nor waiting for the bank in an earlier batch of the campaign (any version)."""
    from weiwen.ledger import payments
    from weiwen.sheets.payment_book import write_payment_book

    m, ledger, v = _approved(folder, ledger_url, operator)
    lines, without = pay_lines(read_allocation_csv(folder / "allocation.csv", code="payment-input"), m.title)
    latest = payments.latest_lines(ledger, m.campaign)
    todo = [x for x in lines if latest.get(ledger.person_hash(x.id_number), ("none",))[0] not in ("paid", "pending")]
    if not todo:
        return Batch(0, 0, Decimal("0.00"), None, without, already=len(lines))
    refuse_bad_lines(todo, layout)
    number = payments.new_batch(ledger, m.campaign, v.number, layout.name, todo, operator, repay=False)
    book = folder / "代发文件" / f"第{number}批-{layout.name}.xlsx"
    totals = write_payment_book(book, todo, layout, title=m.title, batch=f"第{number}批")
    return Batch(number, totals.count, totals.total, book, without, already=len(lines) - len(todo))


@dataclass
class Returned:
    batch: int
    reconciliation: object
    report: Path
    repay: Batch | None
    cash_total: Decimal
    paid_total: Decimal  # over every batch of the version
    failed_open: Decimal
    pending: Decimal
    without_account: Decimal
    unsent: Decimal  # with an account, in no batch yet
    paid_outside: list[str]  # paid in this campaign but not in the approved version (to recover)
    paid_differs: list[str]  # paid another amount under an earlier version (to recover or top up)

    @property
    def balanced(self) -> bool:
        """The approved cash splits exactly into paid, waiting, failed, unsent and without an account."""
        return self.paid_total + self.pending + self.failed_open + self.unsent + self.without_account == self.cash_total


def import_return(folder: Path, ledger_url: str | None, layout: BankLayout, return_file: Path,
                  batch: int | None, operator: str | None) -> Returned:
    """Read the bank's return file of a batch, mark each line paid or failed in the ledger, write the
    reconciliation and, for failed lines, a re-payment batch; amounts reconciled to the cent against
    the approved version."""
    from weiwen.ledger import payments
    from weiwen.read.bank_return import read_bank_return
    from weiwen.reconcile import reconcile
    from weiwen.sheets.payment_book import write_payment_book
    from weiwen.sheets.return_book import write_return_report

    m, ledger, v = _approved(folder, ledger_url, operator)
    got = read_bank_return(return_file, layout)
    if not got.ok:
        raise ReturnProblems(got.problems)
    number = batch or payments.latest_batch(ledger, m.campaign)
    sent = payments.batch_lines_list(ledger, m.campaign, number)
    done = [s for s in sent if s["status"] != "pending"]
    if done:
        raise WeiwenError(f"第 {number} 批的回盘已经导入过（{len(done)} 笔已有结果），不能再导入一次（否则可能重复补发）。"
                          "如果这是另一批的回盘文件，请用 --batch 写明批次号；如果银行更正了回盘结果，请与银行核对后人工处理。",
                          code="return-already-imported")
    all_lines, _ = pay_lines(read_allocation_csv(folder / "allocation.csv", code="payment-input"), m.title)
    by_hash = {ledger.hash_text(x.account): x for x in all_lines}
    expected = []
    for s in sent:
        line = by_hash.get(str(s["account"]))
        if line is None:
            raise WeiwenError(f"第 {number} 批中 {s['name']} 的账号（{s['account_masked']}）在审批的名单中找不到。",
                              code="batch-mismatch")
        expected.append(line)
    rec = reconcile(expected, got.rows)
    if rec.unexpected:
        raise WeiwenError(f"回盘文件中有 {len(rec.unexpected)} 笔不在第 {number} 批中（共 {len(got.rows)} 笔）：这可能是另一批的回盘文件。"
                          "没有记入台账；请用 --batch 写明这份回盘对应的批次号，或向银行核实。", code="return-wrong-batch")
    payments.mark(ledger, m.campaign, number, [(ledger.hash_text(x.line.account), True, x.bank.message) for x in rec.paid]
                  + [(ledger.hash_text(x.line.account), False, x.bank.message) for x in rec.failed], operator,
                  return_file.name)
    report = folder / "代发文件" / f"第{number}批-回盘核对.xlsx"
    write_return_report(report, rec, title=m.title, batch=f"第{number}批")
    repay = None
    latest = payments.latest_lines(ledger, m.campaign)
    failed_lines = [x.line for x in rec.failed
                    if latest.get(ledger.person_hash(x.line.id_number), ("none",))[0] not in ("paid", "pending")]
    if failed_lines:
        refuse_bad_lines(failed_lines, layout)
        again = payments.new_batch(ledger, m.campaign, v.number, layout.name, failed_lines, operator, repay=True)
        book = folder / "代发文件" / f"第{again}批（补发）-{layout.name}.xlsx"
        totals = write_payment_book(book, failed_lines, layout, title=m.title, batch=f"第{again}批（补发第{number}批失败的）")
        repay = Batch(again, totals.count, totals.total, book, [])
    rows = read_allocation_csv(folder / "allocation.csv", code="payment-input").rows
    heads = {ledger.person_hash(r.id_number): int(r.cash * 100) for r in rows if r.cash > 0 and r.bank_card.strip()}
    status = payments.status(ledger, m.campaign, heads)
    no_card = sum((r.cash for r in rows if r.cash > 0 and not r.bank_card.strip()), Decimal("0.00"))
    return Returned(number, rec, report, repay, Decimal(v.cash_fen).scaleb(-2), status.paid, status.failed_open,
                    status.pending, no_card, status.unsent, status.paid_outside, status.paid_differs)


class ReturnProblems(WeiwenError):
    """The return file has problems: nothing was marked."""

    def __init__(self, problems: list[object]):
        super().__init__(f"回盘文件有 {len(problems)} 处问题，没有记入台账：请核对后用银行的原始回盘文件重新导入。",
                         code="return-invalid", exit_code=ExitCode.PROBLEMS)
        self.problems = problems

