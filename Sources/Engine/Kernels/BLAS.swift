import BLASThreading
import COpenBLAS

/// The engine's only door to OpenBLAS.
public enum BLAS {
    /// OpenBLAS's build string (version, core type, threading), recorded with every run.
    public static var configuration: String {
        guard let c = openblas_get_config() else { return "unknown" }
        return String(cString: c)
    }

    /// The CPU kernel family OpenBLAS dispatched to (e.g. `Zen`, `Haswell`).
    public static var coreName: String { BLASKernels.dispatched }

    /// The configured thread count: the engine's worker count and part of the determinism class.
    /// OpenBLAS itself runs single-threaded inside forward passes and bit-sensitive analyses.
    public static var threadCount: Int { BLASThreads.configured }

    public static func setThreadCount(_ n: Int) { BLASThreads.configure(n) }
}

/// `C[m×n] = alpha · A[m×k] · B[n×k]ᵀ + beta · C` (row-major; B holds one output row per row,
/// the layout of a linear layer's weight).
@inline(__always)
func gemmTransposedB(m: Int, n: Int, k: Int, alpha: Float = 1,
                     a: UnsafePointer<Float>, lda: Int,
                     b: UnsafePointer<Float>, ldb: Int,
                     beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k),
                alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// `C[m×n] = alpha · A[m×k] · B[k×n] + beta · C` (row-major).
@inline(__always)
func gemm(m: Int, n: Int, k: Int, alpha: Float = 1,
          a: UnsafePointer<Float>, lda: Int,
          b: UnsafePointer<Float>, ldb: Int,
          beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k),
                alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// Measures single-precision GEMM throughput on this machine, for the benchmark's ceiling.
public func measureSGEMMGigaflops(size: Int = 1024, repetitions: Int = 6) -> Double {
    let a = [Float](repeating: 0.5, count: size * size)
    var c = [Float](repeating: 0, count: size * size)
    var best = Double.infinity
    a.withUnsafeBufferPointer { pa in
        c.withUnsafeMutableBufferPointer { pc in
            for _ in 0..<repetitions {
                let start = ContinuousClock.now
                gemmTransposedB(m: size, n: size, k: size, a: pa.baseAddress!, lda: size,
                                b: pa.baseAddress!, ldb: size, c: pc.baseAddress!, ldc: size)
                let elapsed = ContinuousClock.now - start
                best = min(best, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
            }
        }
    }
    return 2 * Double(size * size * size) / best / 1e9
}
