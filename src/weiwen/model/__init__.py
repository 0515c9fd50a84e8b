"""The data model: what a person, a household, a decision and a payment row *are*, stated once.

Everything that flows between weiwen's modules is declared here and checked where it crosses a
boundary (``frames.check``):

==================  ===========================================  ===============================
what                declared in                                  checked when
==================  ===========================================  ===============================
person rows         :data:`frames.PERSONS` (the roster frame)    a sheet becomes a frame; decide in
recipients          :data:`frames.HOUSEHOLDS`                    the engine's population is built
decision table      :data:`frames.DECISION`                      decide out
allocation.csv      :mod:`weiwen.model.payment` (row model)      written (header) and read back
==================  ===========================================  ===============================

Identity is structured, never a string to parse.  A household is found by how its members were
linked (:class:`recipients.HouseholdLink`: 户号 within a village, the head's ID, the order of
rows, or a row of its own) and a reference (the 户号, the head's ID or the first Excel row), within
its source file and sheet: the columns ``household_link`` and ``household_ref`` of the roster
frame.  ``household`` is that key numbered (an integer, unique within one intake) so that
grouping is numeric.  The recipient kind (:class:`recipients.RecipientKind`) is part of the model:
today's campaigns aid households; persons without a household and units without ID numbers are
the same frames with another kind, and an event roster that lists one member several times a year
keeps each listing apart because the source row is part of every key.

Frames are checked with pandera (column names, dtypes, nullability, closed value sets): on the
1,000,000-person roster a check costs about 10 ms, where validating the same rows as pydantic
records costs seconds (``benchmarks/bench_model.py``; README 依赖).  Row-shaped records that are
read back from files (allocation.csv) are pydantic models.
"""
