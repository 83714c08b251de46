import COpenBLAS
#if canImport(Glibc)
import Glibc
#endif

/// Which CPU kernels OpenBLAS dispatches to, and the one correction rbench makes to its choice.
///
/// A `DYNAMIC_ARCH` OpenBLAS picks its kernels from the CPU's family and model number. A CPU newer
/// than the library (Debian 12's 0.3.21 does not know Emerald Rapids, family 6 model 207) gets the
/// generic x86-64 fallback, `Prescott`: SSE3 kernels, here 4–5× slower in sgemm than the AVX-512 ones
/// the same CPU runs. OpenBLAS reads `OPENBLAS_CORETYPE` once, when the library loads, before
/// `main`; so a process that finds the fallback on a CPU with AVX2 or AVX-512 sets the variable and
/// starts itself again. A variable the user set is never overridden.
public enum BLASKernels {
    /// The variable OpenBLAS reads at load time.
    public static let variable = "OPENBLAS_CORETYPE"
    /// Set beside ``variable`` when rbench chose the kernels, so the run can say so.
    public static let markerVariable = "RBENCH_BLAS_CORE_OVERRIDE"

    /// The kernel family OpenBLAS dispatched to (e.g. `Haswell`, `SkylakeX`, `Zen`, `Prescott`).
    public static var dispatched: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// The kernels to force instead of `dispatched`, or nil to keep OpenBLAS's choice.
    ///
    /// Only OpenBLAS's generic fallback is corrected, and only when the user has not chosen
    /// (`requested` nil): to the widest kernel family whose instructions `cpuFlags` (the
    /// `/proc/cpuinfo` flags) all provide.
    public static func correction(dispatched: String, cpuFlags: Set<String>, requested: String?) -> String? {
        guard requested == nil, dispatched.lowercased() == "prescott" else { return nil }
        if ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(cpuFlags.contains) { return "SkylakeX" }
        if ["avx2", "fma"].allSatisfy(cpuFlags.contains) { return "Haswell" }
        if cpuFlags.contains("avx") { return "SandyBridge" }
        return nil
    }

    /// The correction for this process and machine (nil when none applies or the CPU is not x86-64).
    public static var correctionForThisMachine: String? {
        #if os(Linux) && arch(x86_64)
        correction(dispatched: dispatched, cpuFlags: cpuFlags(), requested: environment(variable))
        #else
        nil
        #endif
    }

    /// The kernel family rbench forced in this process (nil when OpenBLAS's own choice stands).
    public static var forced: String? {
        guard let forced = environment(markerVariable), environment(variable) == forced else { return nil }
        return forced
    }

    /// Why the kernels are what they are, when rbench chose them (recorded with the run); nil otherwise.
    public static var override: String? {
        forced.map { "\(variable)=\($0) set by rbench: OpenBLAS fell back to its generic Prescott kernels on this CPU" }
    }

    /// Starts this executable again with ``correctionForThisMachine`` in the environment when there
    /// is one; returns (having changed nothing) when there is none or the restart fails.
    public static func restartWithCorrectedKernelsIfNeeded() {
        #if os(Linux) && arch(x86_64)
        guard let core = correctionForThisMachine, environment(markerVariable) == nil else { return }
        setenv(variable, core, 1)
        setenv(markerVariable, core, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // Only reached when exec failed: go on with the slow kernels, and say so once.
        let message = "warning: OpenBLAS runs its generic Prescott kernels on this CPU; restarting with \(variable)=\(core) failed (errno \(errno)). Set it yourself for 4–5× faster sgemm.\n"
        message.withCString { _ = write(2, $0, strlen($0)) }
        unsetenv(variable)
        #endif
    }

    /// The instruction-set flags of `/proc/cpuinfo`'s first `flags` line.
    static func cpuFlags(cpuinfo path: String = "/proc/cpuinfo") -> Set<String> {
        guard let file = fopen(path, "r") else { return [] }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0, let line {
            let text = String(cString: line)
            guard text.hasPrefix("flags"), let colon = text.firstIndex(of: ":") else { continue }
            return Set(text[text.index(after: colon)...].split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).map(String.init))
        }
        return []
    }

    private static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        return String(cString: value)
    }
}
