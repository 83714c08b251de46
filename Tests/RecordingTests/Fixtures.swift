import Foundation
@testable import Recording

/// A fixed environment, so determinism classes are stable across machines.
func testEnvironment(threads: Int = 2) -> EnvironmentInfo {
    EnvironmentInfo(hostname: "test-host", osName: "Linux", kernel: "6.0", cpuModel: "Test CPU", cpuArch: "x86_64",
                    isaFeatures: ["avx2", "fma"], coresOnline: 2, threads: threads, memoryBytes: 1 << 30, swiftVersion: "6.3",
                    buildConfig: "release", blasConfig: "OpenBLAS 0.3 test", blasCoreType: "Haswell", batchSize: 1)
}

func testRun(id: String = UUID().uuidString.lowercased(), status: RunStatus = .complete, model: String = "aa",
             threads: Int = 2, commit: String? = "1111111111111111111111111111111111111111", results: [ResultRecord]) -> RunRecord {
    RunRecord(id: id, status: status, finishedAt: status == .complete ? Date().timeIntervalSince1970 : nil, suite: "smoke",
              suiteSHA256: "ss", modelSHA256: model, corporaSHA256: ["wiki": "cc"],
              artifacts: [ArtifactRecord(kind: "model", role: "model", path: "/m.gguf", sha256: model, sizeBytes: 3)],
              masterSeed: 1234, argv: ["rbench", "run"], revision: RevisionInfo(inRepository: true, commitSHA: commit, branch: "main"),
              environment: testEnvironment(threads: threads), results: results)
}

func result(claim: String = "TD-1", subject: String = "model", verdict: RecordedVerdict = .supported,
            expected: RecordedVerdict? = nil, metrics: [MetricRecord]) -> ResultRecord {
    ResultRecord(claimID: claim, subject: subject, verdict: verdict, expectedVerdict: expected, seed: 7, durationNS: 1000, metrics: metrics)
}
