/// The thirds of a model's depth (claims spec §0.7): "early / middle / late third" always means
/// thirds of the **layers** 1…L, never thirds of whatever list a check happens to hold.
///
/// A position x in (0, L] belongs to third ⌈3x/L⌉. What x is depends on what a value describes:
/// - a per-layer value at layer l (a state h_l, a norm, a density): x = l;
/// - a transition h_l → h_{l+1} (a velocity, a correlation, an MI value): x = l + ½;
/// - a turning angle φ_l, whose vertex is h_l: x = l.
///
/// With L = 30 the thirds are layers 1–10, 11–20 and 21–30, and the velocities v_0…v_9,
/// v_10…v_19 and v_20…v_29; with L = 28 they are 1–9, 10–18 and 19–28. The embedding (x = 0)
/// belongs to no third.
public struct DepthThirds: Sendable, Hashable {
    /// L, the number of blocks.
    public let layers: Int

    /// Throws ``ClaimError/insufficientData(_:)`` for fewer than 3 blocks, which have no thirds.
    public init(layers: Int) throws {
        guard layers >= 3 else {
            throw ClaimError.insufficientData("a model of \(layers) block(s) has no thirds of the depth; these checks need at least 3 blocks")
        }
        self.layers = layers
    }

    /// The three thirds, in order.
    public enum Third: Int, Sendable, CaseIterable {
        case early = 1, middle, late

        public var name: String {
            switch self {
            case .early: "early"
            case .middle: "middle"
            case .late: "late"
            }
        }
    }

    /// The third of a position given in half-layers (h = 2x), or nil outside (0, L].
    /// Integer arithmetic, so the boundaries are exact: ⌈3x/L⌉ = ⌈3h/2L⌉.
    func third(halfLayers h: Int) -> Third? {
        guard h > 0, h <= 2 * layers else { return nil }
        return Third(rawValue: (3 * h + 2 * layers - 1) / (2 * layers))
    }

    /// The third of a per-layer value at layer `l` (nil for the embedding, l = 0).
    public func third(ofLayer l: Int) -> Third? { third(halfLayers: 2 * l) }

    /// The third of the transition h_l → h_{l+1} (x = l + ½).
    public func third(ofTransitionFrom l: Int) -> Third? { third(halfLayers: 2 * l + 1) }

    /// The third of a turning angle whose vertex is h_l.
    public func third(ofVertex l: Int) -> Third? { third(ofLayer: l) }

    /// The layers 1…L of one third.
    public func layers(in part: Third) -> [Int] { (1...layers).filter { third(ofLayer: $0) == part } }

    /// The starting layers l of the transitions h_l → h_{l+1} (0 ≤ l < L) in one third.
    public func transitions(in part: Third) -> [Int] { (0..<layers).filter { third(ofTransitionFrom: $0) == part } }

    /// `items` split by the third of each item's layer position (nil positions are dropped).
    public func split<T>(_ items: [T], by third: (T) -> Third?) -> [Third: [T]] {
        var parts: [Third: [T]] = [:]
        for item in items { if let t = third(item) { parts[t, default: []].append(item) } }
        return parts
    }

    /// The last layer of each third (10, 20, 30 for L = 30), recorded with the metrics that use the split.
    public var boundaries: [Int] { Third.allCases.map { layers(in: $0).last ?? 0 } }

    /// `depth_third_end[k]` = last layer of third k: the split a check's third-based metrics used.
    public var metrics: [Metric] {
        Third.allCases.map { Metric("depth_third_end", layer: $0.rawValue, unit: "layer (layer = third)", value: Double(layers(in: $0).last ?? 0)) }
    }

    /// "1–10 / 11–20 / 21–30".
    public var summary: String {
        Third.allCases.map { t in let l = layers(in: t); return "\(l.first ?? 0)–\(l.last ?? 0)" }.joined(separator: " / ")
    }
}

func mean(_ values: [Double]) -> Double { values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count) }
