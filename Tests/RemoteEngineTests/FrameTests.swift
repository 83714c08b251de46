import Foundation
@testable import RemoteEngine
import Testing

@Suite struct FrameTests {
    /// A frame decodes to the header and float32/int32 arrays it was encoded from.
    @Test func roundTrip() throws {
        let floats = WireArray(name: "states", floats: [1.5, -2.25, .pi], shape: [1, 3])
        let ints = WireArray(name: "tokens", ints: [7, -1], shape: [2])
        let (head, payloads) = try Frame.encode(header: ["op": "prefill", "args": ["model": 1]], arrays: [floats, ints])
        var stream = head
        for payload in payloads { stream.append(payload) }
        var offset = 0
        let message = try Frame.decode { n in
            let end = min(stream.count, offset + n)
            defer { offset = end }
            return stream.subdata(in: offset ..< end)
        }
        #expect(message.header["op"]?.string == "prefill")
        #expect(message.array("states")?.floats == [1.5, -2.25, .pi])
        #expect(message.array("tokens")?.ints == [7, -1])
    }

    /// A header that promises more payload than it carries is a protocol violation, not a crash.
    @Test func truncatedPayload() throws {
        let (head, payloads) = try Frame.encode(header: ["ok": true], arrays: [WireArray(name: "out", floats: [1, 2, 3, 4], shape: [4])])
        var stream = head
        stream.append(payloads[0].prefix(6))
        var offset = 0
        #expect(throws: WorkerError.self) {
            try Frame.decode { n in
                let end = min(stream.count, offset + n)
                defer { offset = end }
                return stream.subdata(in: offset ..< end)
            }
        }
    }
}
