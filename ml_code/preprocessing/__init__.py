"""The processing step's logic, one concern per module; ``ml_code/preprocess.py`` is the entry.

``job`` runs the step. ``cluster`` tells which instance this is and ``sources`` lists its
files, which ``formats`` detects, ``columns`` maps and ``readers`` streams in chunks.
``rows`` validates and cleans each chunk (``text`` repairs the review texts) and
``records`` turns valid rows into feature records. ``sampling`` assigns splits and
decides what balancing keeps (its docstring states what sharded runs guarantee);
``dedup`` drops review ids seen before; ``balancing`` applies the sampling, with ``spill``
holding the records while labels are counted. ``tokenization`` encodes them, ``output``
writes the split files, ``feature_store`` ingests them and ``report`` accounts for every row.
``arguments``, ``config`` and ``errors``: the command line, the settings, the two
deliberate failures.
"""
