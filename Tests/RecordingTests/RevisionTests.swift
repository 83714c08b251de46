import Foundation
import Testing
import TestSupport
@testable import Recording

@Suite struct RevisionTests {
    @Test func cleanDirtyAndDetachedCheckouts() throws {
        let repo = try TemporaryGitRepository()
        defer { repo.remove() }
        let first = try repo.commit("a.txt", "one\n")
        try repo.git("tag", "v0.1")
        let second = try repo.commit("a.txt", "two\n")

        let clean = try RevisionInfo.read(at: repo.url)
        #expect(clean.inRepository && clean.commitSHA == second && clean.branch == "main")
        #expect(!clean.isDirty && clean.dirtyDiffSHA256 == nil)
        #expect(clean.describe?.hasPrefix("v0.1-1-g") == true)
        #expect(clean.commitTime != nil)

        try repo.directory.write("a.txt", "three\n")
        let dirty = try RevisionInfo.read(at: repo.url)
        #expect(dirty.isDirty && dirty.commitSHA == second && dirty.dirtyDiffSHA256?.count == 64)
        #expect(dirty.describe?.hasSuffix("-dirty") == true)
        try repo.directory.write("a.txt", "four\n")
        #expect(try RevisionInfo.read(at: repo.url).dirtyDiffSHA256 != dirty.dirtyDiffSHA256, "a different diff gets a different key")

        try repo.git("checkout", "-q", "--", "a.txt")
        try repo.git("checkout", "-q", "--detach", first)
        let detached = try RevisionInfo.read(at: repo.url)
        #expect(detached.commitSHA == first && detached.branch == nil && !detached.isDirty && detached.describe == "v0.1")
    }

    @Test func outsideARepositoryIsRecordedNotFatal() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        // /tmp itself is not inside a checkout on the CI image; the search must stop without an error.
        let info = try RevisionInfo.read(at: temp.url)
        #expect(info == .outsideRepository)
    }

    @Test func environmentClassIgnoresHostButNotThreads() {
        var other = testEnvironment()
        other.hostname = "elsewhere"
        other.cpuModel = "Other CPU"
        #expect(other.determinismClass == testEnvironment().determinismClass)
        #expect(other.fingerprint != testEnvironment().fingerprint)
        #expect(testEnvironment(threads: 1).determinismClass != testEnvironment().determinismClass)
        let parsed = EnvironmentInfo.parseCPUInfo("model name\t: Fancy CPU\nflags\t\t: fpu sse4_2 avx2 fma pni\n")
        #expect(parsed.model == "Fancy CPU" && parsed.features == ["avx2", "fma", "sse4_2"])
    }

    /// Both weight residencies compute the same bits (the engine's tests compare them), so the
    /// residency is recorded but leaves the class alone; records made before it existed still decode.
    @Test func weightResidencyIsRecordedOutsideTheDeterminismClass() throws {
        var quantized = testEnvironment()
        quantized.weightResidency = "quantized (policy auto (dense up to 1024 MiB of Float32 block matrices))"
        #expect(quantized.determinismClass == testEnvironment().determinismClass)
        #expect(quantized.fingerprint != testEnvironment().fingerprint)
        let encoded = try JSONEncoder().encode(quantized)
        #expect(try JSONDecoder().decode(EnvironmentInfo.self, from: encoded) == quantized)
        var old = try JSONSerialization.jsonObject(with: encoded) as! [String: Any]
        old.removeValue(forKey: "weightResidency")
        let decoded = try JSONDecoder().decode(EnvironmentInfo.self, from: JSONSerialization.data(withJSONObject: old))
        #expect(decoded.weightResidency == nil && decoded == testEnvironment())
    }
}
