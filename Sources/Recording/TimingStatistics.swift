import Foundation

/// The outcome of an A/B timing comparison (recording.md §5).
public struct TimingComparison: Sendable, Equatable, Codable {
    /// Hodges–Lehmann shift of log(head) − log(base): ln of the time ratio.
    public var effect: Double
    public var ciLow: Double
    public var ciHigh: Double
    /// Two-sided Mann–Whitney p-value.
    public var pValue: Double
    public var baseCount: Int
    public var headCount: Int
    /// True when the p-value came from the exact null distribution (no ties, small samples).
    public var exact: Bool
}

/// Distribution-free statistics for timing samples.
public enum TimingStatistics {
    /// Compares two arms of positive timings on the log scale; `confidence` sets the CI level.
    public static func compare(base: [Double], head: [Double], confidence: Double = 0.99) -> TimingComparison {
        let logBase = base.map { log($0) }
        let logHead = head.map { log($0) }
        let differences = logHead.flatMap { h in logBase.map { h - $0 } }.sorted()
        let (low, high) = shiftInterval(sortedDifferences: differences, m: logHead.count, n: logBase.count, confidence: confidence)
        let (p, exact) = mannWhitneyP(logHead, logBase)
        return TimingComparison(effect: median(differences), ciLow: low, ciHigh: high, pValue: p,
                                baseCount: base.count, headCount: head.count, exact: exact)
    }

    /// The Hodges–Lehmann estimate: the median of all pairwise differences x − y.
    static func hodgesLehmann(_ x: [Double], _ y: [Double]) -> Double {
        median(x.flatMap { a in y.map { a - $0 } }.sorted())
    }

    static func median(_ sorted: [Double]) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }

    /// U statistic of x over y: pairs with x > y, ties counting one half.
    static func uStatistic(_ x: [Double], _ y: [Double]) -> Double {
        var u = 0.0
        for a in x { for b in y { u += a > b ? 1 : (a == b ? 0.5 : 0) } }
        return u
    }

    /// Two-sided p-value of the Mann–Whitney U test; exact when there are no ties and m·n ≤ 2500.
    static func mannWhitneyP(_ x: [Double], _ y: [Double]) -> (p: Double, exact: Bool) {
        let m = x.count, n = y.count
        guard m > 0, n > 0 else { return (1, false) }
        let u = uStatistic(x, y)
        let pooled = (x + y).sorted()
        let hasTies = zip(pooled, pooled.dropFirst()).contains { $0 == $1 }
        if !hasTies, m * n <= 2500 {
            let distribution = exactUDistribution(m: m, n: n)
            let uInt = Int(u)
            let lower = distribution[0...uInt].reduce(0, +)
            let upper = distribution[uInt...].reduce(0, +)
            return (min(1, 2 * min(lower, upper)), true)
        }
        let mn = Double(m * n)
        let total = Double(m + n)
        var tieSum = 0.0
        var index = 0
        while index < pooled.count {
            var end = index
            while end + 1 < pooled.count, pooled[end + 1] == pooled[index] { end += 1 }
            let t = Double(end - index + 1)
            tieSum += t * t * t - t
            index = end + 1
        }
        let variance = mn / 12 * ((total + 1) - tieSum / (total * (total - 1)))
        guard variance > 0 else { return (1, false) }
        let deviation = max(0, abs(u - mn / 2) - 0.5)
        return (min(1, erfc(deviation / variance.squareRoot() / 2.0.squareRoot())), false)
    }

    /// P(U = u) for u = 0…m·n under the null hypothesis, by the counting recurrence
    /// f(u; m, n) = f(u − n; m − 1, n) + f(u; m, n − 1).
    static func exactUDistribution(m: Int, n: Int) -> [Double] {
        // counts[i][j] is the distribution for sample sizes (i, j); built row by row.
        var previousRow: [[Double]] = (0...n).map { _ in [1] } // i = 0: U is always 0
        for i in 1...max(m, 1) where m > 0 {
            var row: [[Double]] = [[1]] // j = 0: U is always 0
            for j in 1...n {
                var counts = [Double](repeating: 0, count: i * j + 1)
                let withoutLastX = previousRow[j] // sizes (i − 1, j): shifted by j
                for (u, c) in withoutLastX.enumerated() { counts[u + j] += c }
                let withoutLastY = row[j - 1] // sizes (i, j − 1)
                for (u, c) in withoutLastY.enumerated() { counts[u] += c }
                row.append(counts)
            }
            previousRow = row
        }
        let counts = previousRow[n]
        let total = counts.reduce(0, +)
        return counts.map { $0 / total }
    }

    /// Distribution-free CI for the shift from order statistics of the pairwise differences.
    static func shiftInterval(sortedDifferences d: [Double], m: Int, n: Int, confidence: Double) -> (Double, Double) {
        let mn = m * n
        guard mn > 0 else { return (-.infinity, .infinity) }
        let alphaHalf = (1 - confidence) / 2
        var c: Int // largest c with P(U ≤ c) ≤ α/2; −1 when none
        if mn <= 2500 {
            let distribution = exactUDistribution(m: m, n: n)
            var cumulative = 0.0
            c = -1
            for (u, probability) in distribution.enumerated() {
                cumulative += probability
                if cumulative <= alphaHalf + 1e-12 { c = u } else { break }
            }
        } else {
            let z = inverseNormal(1 - alphaHalf)
            c = Int((Double(mn) / 2 - z * (Double(mn * (m + n + 1)) / 12).squareRoot()).rounded(.down)) - 1
        }
        guard c >= 0, c < mn - c - 1 else { return (-.infinity, .infinity) }
        return (d[c], d[mn - c - 1])
    }

    /// Φ⁻¹ by bisection on erfc; only used for large samples.
    static func inverseNormal(_ p: Double) -> Double {
        var low = -10.0, high = 10.0
        for _ in 0..<200 {
            let mid = (low + high) / 2
            if 0.5 * erfc(-mid / 2.0.squareRoot()) < p { low = mid } else { high = mid }
        }
        return (low + high) / 2
    }
}
