import Claims
import Testing

@Suite("Thirds of the depth (claims spec §0.7)")
struct DepthThirdsTests {
    @Test("per-layer values: ⌈3l/L⌉ for L = 18, 24, 28, 30", arguments: [
        (18, [1...6, 7...12, 13...18]), (24, [1...8, 9...16, 17...24]),
        (28, [1...9, 10...18, 19...28]), (30, [1...10, 11...20, 21...30]),
    ])
    func layers(_ depth: Int, _ expected: [ClosedRange<Int>]) throws {
        let thirds = try DepthThirds(layers: depth)
        #expect(thirds.layers(in: .early) == Array(expected[0]))
        #expect(thirds.layers(in: .middle) == Array(expected[1]))
        #expect(thirds.layers(in: .late) == Array(expected[2]))
        #expect(thirds.third(ofLayer: 0) == nil, "the embedding belongs to no third")
        #expect(thirds.boundaries == expected.map(\.upperBound))
    }

    @Test("transitions h_l → h_{l+1} sit at l + ½", arguments: [
        (18, [0...5, 6...11, 12...17]), (24, [0...7, 8...15, 16...23]),
        (28, [0...8, 9...18, 19...27]), (30, [0...9, 10...19, 20...29]),
    ])
    func transitions(_ depth: Int, _ expected: [ClosedRange<Int>]) throws {
        let thirds = try DepthThirds(layers: depth)
        #expect(thirds.transitions(in: .early) == Array(expected[0]))
        #expect(thirds.transitions(in: .middle) == Array(expected[1]))
        #expect(thirds.transitions(in: .late) == Array(expected[2]))
    }

    @Test("a turning angle belongs to the third of its vertex h_l")
    func vertices() throws {
        let thirds = try DepthThirds(layers: 30)
        #expect((1...29).filter { thirds.third(ofVertex: $0) == .early } == Array(1...10))
        #expect((1...29).filter { thirds.third(ofVertex: $0) == .middle } == Array(11...20))
        #expect((1...29).filter { thirds.third(ofVertex: $0) == .late } == Array(21...29))
        #expect(thirds.summary == "1–10 / 11–20 / 21–30")
    }

    @Test("a depth below 3 blocks has no thirds: an error, not a trap")
    func shallow() {
        #expect(throws: ClaimError.self) { try DepthThirds(layers: 2) }
    }
}
