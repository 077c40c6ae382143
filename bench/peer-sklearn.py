#!/usr/bin/python3
"""scikit-learn as a peer for make bench, on the same data as bench-pca / bench-train.

  peer-sklearn.py pca <rows.f32> <n> <dim> <k> <full|randomized>
      PCA(n_components=k, svd_solver=...) on n x dim float32 rows (raw, row-major,
      written by bench-pca --save); prints one line: wall and CPU seconds, explained ratio.
  peer-sklearn.py train <train.svm> <test.svm> <logreg|linearsvc>
      LogisticRegression(C=10) / LinearSVC(C=1) on the LIBSVM files bench-train
      --save writes; prints seconds and test accuracy.
  peer-sklearn.py blas
      which BLAS numpy runs and its kernel (threadpoolctl), or why it cannot say.
Exit status 3 when scikit-learn is not installed (run.sh then skips the peer).
"""
import sys
import time

try:
    import numpy as np
    import sklearn
except ImportError as e:
    print(f"scikit-learn not installed ({e}); skipped", flush=True)
    sys.exit(3)


def blas():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        print(f"numpy {np.__version__}, scikit-learn {sklearn.__version__}; "
              "BLAS kernel unknown (python3-threadpoolctl not installed)")
        return
    np.ones((2, 2)) @ np.ones((2, 2))  # loads the BLAS
    libs = [f"{i['internal_api']} {i.get('version')} {i.get('architecture', '')} "
            f"{i['num_threads']} threads" for i in threadpool_info() if i['user_api'] == 'blas']
    print(f"numpy {np.__version__}, scikit-learn {sklearn.__version__}, BLAS: {'; '.join(libs) or 'none found'}")


def pca(path, n, dim, k, solver):
    from sklearn.decomposition import PCA
    x = np.fromfile(path, dtype=np.float32).reshape(int(n), int(dim))
    start, cpu_start = time.perf_counter(), time.process_time()
    model = PCA(n_components=int(k), svd_solver=solver, random_state=0).fit(x)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    print(f"sklearn-pca {solver} {seconds:.3f} s (CPU {cpu:.2f} s) "
          f"explained {model.explained_variance_ratio_.sum():.5f}", flush=True)


def train(train_path, test_path, which):
    from sklearn.datasets import load_svmlight_files
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC
    x, y, xt, yt = load_svmlight_files([train_path, test_path])
    x, xt = x.toarray().astype(np.float32), xt.toarray().astype(np.float32)
    model = LogisticRegression(C=10.0, max_iter=1000) if which == "logreg" else LinearSVC(C=1.0)
    start = time.perf_counter()
    model.fit(x, y)
    seconds = time.perf_counter() - start
    accuracy = 100.0 * (model.predict(xt) == yt).mean()
    print(f"sklearn-{which} {seconds:.3f} s accuracy {accuracy:.2f} %", flush=True)


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "blas":
        blas()
    elif len(sys.argv) == 7 and sys.argv[1] == "pca":
        pca(*sys.argv[2:])
    elif len(sys.argv) == 5 and sys.argv[1] == "train":
        train(*sys.argv[2:])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
