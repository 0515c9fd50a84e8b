"""Reconcile a payment batch with the bank's return file, by account, to the cent (pure).

Every line of the batch ends in exactly one outcome: paid (the bank says paid, the same amount),
failed (the bank says failed, with its message: the money did not leave, the line is to be paid
again after the account is fixed), amount_mismatch (the bank says paid, but another amount: an
error to clear with the bank) or missing (the return file does not list it).  A return record
whose account is not in the batch is unexpected.  Amounts are ``Decimal``, summed exactly.

Both sides must list an account once: a batch or a return file with an account twice cannot be
matched by account and is refused (:mod:`weiwen.sheets.payment_book` refuses such a batch, and
:mod:`weiwen.read.bank_return` reports such a return file, before this is reached).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from weiwen.core.errors import WeiwenError
from weiwen.core.ids import mask_digits
from weiwen.model.bank import PayLine
from weiwen.read.bank_return import ReturnRow

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Matched:
    """A line of the batch with the bank's record of it."""

    line: PayLine
    bank: ReturnRow

    @property
    def difference(self) -> Decimal:
        """Bank amount minus batch amount."""
        return self.bank.amount - self.line.amount


@dataclass(frozen=True)
class Reconciliation:
    paid: list[Matched] = field(default_factory=list)
    failed: list[Matched] = field(default_factory=list)
    amount_mismatch: list[Matched] = field(default_factory=list)
    missing: list[PayLine] = field(default_factory=list)
    unexpected: list[ReturnRow] = field(default_factory=list)
    expected_count: int = 0
    expected_sum: Decimal = ZERO

    @property
    def paid_count(self) -> int:
        return len(self.paid)

    @property
    def paid_sum(self) -> Decimal:
        return _sum(m.line.amount for m in self.paid)

    @property
    def failed_count(self) -> int:
        return len(self.failed)

    @property
    def failed_sum(self) -> Decimal:
        """What the batch meant to pay the failed lines (still to be paid)."""
        return _sum(m.line.amount for m in self.failed)

    @property
    def mismatch_sum(self) -> Decimal:
        """The batch amounts of the lines the bank paid with another amount."""
        return _sum(m.line.amount for m in self.amount_mismatch)

    @property
    def mismatch_bank_sum(self) -> Decimal:
        """What the bank says it paid those lines."""
        return _sum(m.bank.amount for m in self.amount_mismatch)

    @property
    def missing_sum(self) -> Decimal:
        return _sum(line.amount for line in self.missing)

    @property
    def unexpected_sum(self) -> Decimal:
        return _sum(r.amount for r in self.unexpected)

    @property
    def balanced(self) -> bool:
        """Paid + failed + missing is the batch total: every line of the batch is accounted for
        with its own amount (false exactly when the bank paid a line another amount)."""
        return self.paid_sum + self.failed_sum + self.missing_sum == self.expected_sum

    @property
    def clean(self) -> bool:
        """Everything paid as sent: nothing failed, differing, missing or unexpected."""
        return not (self.failed or self.amount_mismatch or self.missing or self.unexpected)


def _sum(amounts: object) -> Decimal:
    return sum(amounts, ZERO)  # type: ignore[call-overload, no-any-return]


def reconcile(expected: Sequence[PayLine], returned: Sequence[ReturnRow]) -> Reconciliation:
    """Match ``returned`` to ``expected`` by account; outcomes in the batch's order (unexpected
    records in the return file's order).  An account listed twice on either side is a
    :class:`WeiwenError`."""
    batch: dict[str, PayLine] = {}
    twice: list[str] = []
    for line in expected:
        if line.account in batch:
            twice.append(f"批次中账号 {mask_digits(line.account)} 出现了两次（户编码 {batch[line.account].code}、{line.code}）")
        batch.setdefault(line.account, line)
    bank: dict[str, ReturnRow] = {}
    for r in returned:
        if r.account in bank:
            twice.append(f"回盘文件中账号 {mask_digits(r.account)} 出现了两次（第 {bank[r.account].row} 行、第 {r.row} 行）")
        bank.setdefault(r.account, r)
    if twice:
        raise WeiwenError("同一账号出现了两次，无法按账号对账：\n" + "\n".join(f"  - {t}" for t in twice),
                          code="reconcile-duplicate-account")
    paid: list[Matched] = []
    failed: list[Matched] = []
    mismatch: list[Matched] = []
    missing: list[PayLine] = []
    for line in expected:
        r = bank.get(line.account)
        if r is None:
            missing.append(line)
        elif not r.paid:
            failed.append(Matched(line, r))
        elif r.amount == line.amount:
            paid.append(Matched(line, r))
        else:
            mismatch.append(Matched(line, r))
    return Reconciliation(paid=paid, failed=failed, amount_mismatch=mismatch, missing=missing,
                          unexpected=[r for r in returned if r.account not in batch],
                          expected_count=len(expected), expected_sum=_sum(line.amount for line in expected))
