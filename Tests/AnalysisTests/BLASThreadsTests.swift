import BLASThreading
import Dispatch
import Testing

@Suite("OpenBLAS thread sections")
struct BLASThreadsTests {
    @Test("overlapping sections keep OpenBLAS single-threaded until the last one closes")
    func overlappingSections() {
        let configured = BLASThreads.configured
        // Interleaved, not nested: A opens, B opens, A closes while B runs. This is the pattern
        // of an engine forward pass ending beside a bit-sensitive analysis on another thread.
        let aOpened = DispatchSemaphore(value: 0), bOpened = DispatchSemaphore(value: 0)
        let aClosed = DispatchSemaphore(value: 0), bMayClose = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var seenInB: [Int] = []
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) {
            BLASThreads.withSingleThread {
                aOpened.signal()
                bOpened.wait()
            }
            aClosed.signal()
        }
        DispatchQueue.global().async(group: group) {
            aOpened.wait()
            BLASThreads.withSingleThread {
                seenInB.append(BLASThreads.running)
                bOpened.signal()
                aClosed.wait()
                seenInB.append(BLASThreads.running)
                bMayClose.signal()
            }
        }
        bMayClose.wait()
        group.wait()
        #expect(seenInB == [1, 1])
        // Other suites may hold a section right now; the configured count is what no section lowers.
        #expect(BLASThreads.configured == configured)
    }

    @Test("nested sections restore the configured count only at the outermost close")
    func nestedSections() {
        BLASThreads.withSingleThread {
            BLASThreads.withSingleThread { #expect(BLASThreads.running == 1) }
            #expect(BLASThreads.running == 1)
        }
    }
}
