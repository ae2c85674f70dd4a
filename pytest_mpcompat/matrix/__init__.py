"""The matrix tooling that needs no nox: matrix files and their sets, lock files, what a package
index says about releases, where the running plugin came from, and bisection over releases.
``pytest_mpcompat.nox`` turns these into sessions."""
