"""Write-ahead log on RocksDB (rocksdict): ordered, checksummed, fsync'd records.

Layout inside one RocksDB directory::

    b"r" + seq (8 bytes big-endian)  ->  crc32 (4 B) | appended_at_ns (8 B) | payload
    b"m" + name                      ->  metadata written atomically with appends

``append`` writes a whole group of records (and any metadata) in one WriteBatch with
``sync=True``: it returns only when the group is on disk, so callers acknowledge after it
(group commit: callers gather everything that arrived while the previous commit ran).
Records are deleted only by ``truncate(upto)``, which the consumer calls once the next hop
made them durable. A record whose checksum does not match is moved to a side file in
``quarantine_dir`` (``<name>-<seq>.bin``), counted in ``corrupt_records``, and skipped: it
never stops the process.

Damaged RocksDB files
---------------------
Opening replays RocksDB's own log in ``absolute_consistency`` mode (any damaged log record
is reported) and reads every record once (table block checksums are verified); later reads
verify checksums too. Whatever RocksDB reports, the Wal counts it in ``corruption_events``,
logs an error naming the damaged file, keeps the damaged bytes in ``quarantine_dir`` (in
``<name>.damaged-<UTC time>/``, for an operator to inspect and then delete), and carries on:

* a torn log tail (RocksDB's ``*.log`` ends in an incomplete write, e.g. the process was
  killed inside a write): the log files are copied to quarantine and RocksDB drops the
  incomplete batch in place. That batch was never acknowledged (``append`` returns after
  its fsync); every acknowledged record survives.
* any other damage (inside the log, in a table file, in the MANIFEST), at open or found by a
  read later: the whole damaged database is moved, untouched, to quarantine (or next to
  ``path`` if the quarantine dir is on another filesystem) and a fresh one is rebuilt at
  ``path`` from everything still readable in it. What survives:

  - damage inside the log (records written, not yet flushed to a table): RocksDB cannot find
    the next record boundary inside a damaged 32 KiB log block, so the records from the
    damaged one to the end of that block are lost; records in every other block survive;
  - damage inside a table file (``*.sst``): the records of the damaged data block (4 KiB, or
    one record when a record is larger) are lost; the rebuild seeks past the block and keeps
    every other one;
  - damage to a table's index or footer, or to the MANIFEST: RocksDB's repair runs on a copy;
    it sets aside whole unreadable tables, whose records are lost;
  - metadata (high-water marks, ``last_seq``) lives in the same files and is lost the same
    way. Numbering never goes back: if ``last_seq`` is lost, the next seq is placed above
    RocksDB's own sequence number, which is never below a seq this WAL handed out
    (``advance`` excepted: its callers re-advance from their own state).

* a record failing its own (value-level) checksum: only that record is lost; it goes to a
  side file ``<name>-<seq>.bin`` and is counted in ``corrupt_records``.

Rebuilding needs free space of about the size of the readable data. Without it the damaged
database is put back where it was (nothing is lost or renumbered) and the Wal serves what
RocksDB can read, refusing writes, until there is room; if even that fails, opening raises
``WalError`` naming the path.

Write errors (a full disk)
--------------------------
A failed write (no space left, an I/O error) puts RocksDB in read-only mode. ``append``
raises ``WalError`` saying so and naming the path; nothing of that batch counts as written
and everything appended before stays readable. Later writes are refused the same way until
there is room again (RocksDB's log size plus ``RESUME_SLACK_BYTES``); then the next write
reopens the database inside the Wal (no restart), undoes the failed batch should part of it
have reached the disk after all, and rebuilds the in-memory index from the disk.
``truncate`` is skipped meanwhile (the records stay until a later truncate). A Wal opened on
a full disk starts read-only the same way. With ``min_free_bytes`` the Wal refuses appends
before RocksDB fails (below that much free space; deletes go on), nothing to reopen, and takes
them again once ``resume_free_bytes`` are free: a margin, so a nearly full disk does not make it
flap (ADR 0031).

Parts of the package
--------------------
``layout``     key/value layout of records and metadata, and ``Record``
``rocks``      RocksDB options and recovery modes, error classification, the reader/writer gate
``opening``    opening the database, loading the in-memory index, closing
``damage``     damaged RocksDB files: torn log tail, quarantine to a side dir, salvage and rebuild
``full_disk``  failed writes (a full disk): refuse writes, undo the failed batch, resume
``log``        the ``Wal`` itself: append, read, quarantine, truncate, metadata, figures
"""

from ben.core.errors import WalError
from ben.core.wal.full_disk import RESUME_INTERVAL_S, RESUME_SLACK_BYTES
from ben.core.wal.layout import Record, _key
from ben.core.wal.log import Wal
from ben.core.wal.rocks import WRITE_BUFFER_BYTES

__all__ = ["RESUME_INTERVAL_S", "RESUME_SLACK_BYTES", "WRITE_BUFFER_BYTES", "Record", "Wal", "WalError", "_key"]
