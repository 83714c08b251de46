@testable import BLASThreading
import Foundation
import Testing

@Suite("OpenBLAS kernel choice")
struct BLASKernelsTests {
    static let avx512 = Set(["sse4_2", "avx", "avx2", "fma", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"])

    @Test("only OpenBLAS's generic fallback is corrected, to the widest family the CPU's flags provide")
    func correctsOnlyTheFallback() {
        #expect(BLASKernels.correction(dispatched: "Prescott", cpuFlags: Self.avx512, requested: nil) == "SkylakeX")
        #expect(BLASKernels.correction(dispatched: "Prescott", cpuFlags: ["avx", "avx2", "fma"], requested: nil) == "Haswell")
        #expect(BLASKernels.correction(dispatched: "Prescott", cpuFlags: ["avx"], requested: nil) == "SandyBridge")
        #expect(BLASKernels.correction(dispatched: "Prescott", cpuFlags: ["sse3"], requested: nil) == nil)
        // A partial AVX-512 (no BW/DQ/VL, as on Knights Landing) does not run SkylakeX's kernels.
        #expect(BLASKernels.correction(dispatched: "Prescott", cpuFlags: ["avx2", "fma", "avx512f", "avx512cd"], requested: nil) == "Haswell")
        // A known CPU keeps OpenBLAS's choice; so does a user who chose.
        for known in ["Haswell", "SkylakeX", "Cooperlake", "Zen"] {
            #expect(BLASKernels.correction(dispatched: known, cpuFlags: Self.avx512, requested: nil) == nil)
        }
        #expect(BLASKernels.correction(dispatched: "Prescott", cpuFlags: Self.avx512, requested: "Prescott") == nil)
        #expect(BLASKernels.correction(dispatched: "Prescott", cpuFlags: Self.avx512, requested: "") == nil)
    }

    @Test("the flags come from /proc/cpuinfo's first flags line")
    func readsCPUFlags() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("cpuinfo-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        try "processor\t: 0\nmodel\t\t: 207\nflags\t\t: fpu sse2 avx2 fma avx512f\nbugs\t\t: spectre_v1\nprocessor\t: 1\nflags\t\t: other\n"
            .write(to: file, atomically: true, encoding: .utf8)
        #expect(BLASKernels.cpuFlags(cpuinfo: file.path) == ["fpu", "sse2", "avx2", "fma", "avx512f"])
        #expect(BLASKernels.cpuFlags(cpuinfo: "/nonexistent/cpuinfo").isEmpty)
    }

    @Test("the kernels make test exports are the ones OpenBLAS runs, and no correction is left to make",
          .enabled(if: ProcessInfo.processInfo.environment[BLASKernels.markerVariable] != nil))
    func exportedCorrectionTakes() {
        // make test exports rbench's choice to the test processes when OpenBLAS would fall back here;
        // if it did not take, every BLAS call in the tests runs 4–5× slower than it should.
        #expect(BLASKernels.forced == BLASKernels.dispatched)
        #expect(BLASKernels.correctionForThisMachine == nil)
        #expect(BLASKernels.override?.contains("Prescott") == true)
    }
}
