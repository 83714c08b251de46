import Foundation

/// Descriptive statistics, correlations and spectral summaries in Float64.
///
/// Conventions: sample variance divides by N − 1; skewness and kurtosis use population
/// (biased, 1/N) central moments, like MATLAB's defaults; a standard deviation below
/// ``Statistics/degenerateSD`` makes a correlation NaN.
public enum Statistics {
    /// Standard deviations below this make a correlation undefined (NaN).
    public static let degenerateSD = 1e-12

    /// The arithmetic mean (NaN for an empty input).
    public static func mean(_ x: [Double]) -> Double {
        x.isEmpty ? .nan : x.reduce(0, +) / Double(x.count)
    }

    /// The sample variance with divisor N − 1 (two-pass; NaN for fewer than 2 values).
    public static func variance(_ x: [Double]) -> Double {
        guard x.count > 1 else { return .nan }
        let m = mean(x)
        var sum = 0.0
        for v in x { sum += (v - m) * (v - m) }
        return sum / Double(x.count - 1)
    }

    /// The sample standard deviation (divisor N − 1).
    public static func standardDeviation(_ x: [Double]) -> Double {
        variance(x).squareRoot()
    }

    /// The Pearson correlation; NaN when either standard deviation is below ``degenerateSD``.
    public static func pearson(_ x: [Double], _ y: [Double]) -> Double {
        precondition(x.count == y.count, "Statistics.pearson: lengths differ (\(x.count) vs \(y.count))")
        guard x.count > 1 else { return .nan }
        let mx = mean(x), my = mean(y)
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for i in x.indices {
            let dx = x[i] - mx, dy = y[i] - my
            sxy += dx * dy
            sxx += dx * dx
            syy += dy * dy
        }
        return correlation(sxy: sxy, sxx: sxx, syy: syy, count: x.count)
    }

    /// The Pearson correlation of column j of `x` with column j of `y` over rows (samples), for every j;
    /// NaN for columns whose standard deviation in either matrix is below ``degenerateSD``.
    public static func columnCorrelations(_ x: Matrix, _ y: Matrix) -> [Double] {
        precondition(x.rows == y.rows && x.columns == y.columns,
                     "Statistics.columnCorrelations: shapes differ (\(x.rows)×\(x.columns) vs \(y.rows)×\(y.columns))")
        let n = x.rows, d = x.columns
        guard n > 1 else { return Array(repeating: .nan, count: d) }
        var meanX = [Double](repeating: 0, count: d), meanY = meanX
        var sxy = meanX, sxx = meanX, syy = meanX
        x.storage.withUnsafeBufferPointer { xs in
            y.storage.withUnsafeBufferPointer { ys in
                for r in 0..<n {
                    for c in 0..<d {
                        meanX[c] += xs[r * d + c]
                        meanY[c] += ys[r * d + c]
                    }
                }
                for c in 0..<d {
                    meanX[c] /= Double(n)
                    meanY[c] /= Double(n)
                }
                for r in 0..<n {
                    for c in 0..<d {
                        let dx = xs[r * d + c] - meanX[c], dy = ys[r * d + c] - meanY[c]
                        sxy[c] += dx * dy
                        sxx[c] += dx * dx
                        syy[c] += dy * dy
                    }
                }
            }
        }
        return (0..<d).map { correlation(sxy: sxy[$0], sxx: sxx[$0], syy: syy[$0], count: n) }
    }

    private static func correlation(sxy: Double, sxx: Double, syy: Double, count: Int) -> Double {
        let scale = Double(count - 1)
        guard (sxx / scale).squareRoot() >= degenerateSD, (syy / scale).squareRoot() >= degenerateSD else { return .nan }
        return sxy / (sxx.squareRoot() * syy.squareRoot())
    }

    /// 1-based ranks, ties sharing the average of the ranks they span.
    public static func ranks(_ x: [Double]) -> [Double] {
        let order = x.indices.sorted { x[$0] < x[$1] }
        var result = [Double](repeating: 0, count: x.count)
        var start = 0
        while start < order.count {
            var end = start + 1
            while end < order.count && x[order[end]] == x[order[start]] { end += 1 }
            let averageRank = Double(start + end + 1) / 2  // mean of start+1 … end
            for k in start..<end { result[order[k]] = averageRank }
            start = end
        }
        return result
    }

    /// The Spearman rank correlation: Pearson on average ranks (ties handled).
    public static func spearman(_ x: [Double], _ y: [Double]) -> Double {
        pearson(ranks(x), ranks(y))
    }

    /// The p-quantile with linear interpolation between order statistics (Hyndman–Fan type 7,
    /// numpy's default, R's default): with sorted x and h = (N − 1)·p, returns
    /// x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋]). p must lie in [0, 1].
    public static func quantile(_ x: [Double], _ p: Double) -> Double {
        precondition(p >= 0 && p <= 1, "Statistics.quantile: p = \(p) outside [0, 1]")
        guard !x.isEmpty else { return .nan }
        let sorted = x.sorted()
        let h = Double(sorted.count - 1) * p
        let lower = Int(h.rounded(.down))
        let upper = Swift.min(lower + 1, sorted.count - 1)
        return sorted[lower] + (h - Double(lower)) * (sorted[upper] - sorted[lower])
    }

    /// The median (the mean of the two middle values for an even count).
    public static func median(_ x: [Double]) -> Double {
        quantile(x, 0.5)
    }

    /// The median absolute deviation median(|x − median(x)|), unscaled (multiply by 1.4826 for a normal SD).
    public static func medianAbsoluteDeviation(_ x: [Double]) -> Double {
        let m = median(x)
        return median(x.map { abs($0 - m) })
    }

    /// Population central moments m2, m3, m4 (divisor N).
    private static func centralMoments(_ x: [Double]) -> (m2: Double, m3: Double, m4: Double) {
        let m = mean(x)
        var m2 = 0.0, m3 = 0.0, m4 = 0.0
        for v in x {
            let d = v - m, d2 = d * d
            m2 += d2
            m3 += d2 * d
            m4 += d2 * d2
        }
        let n = Double(x.count)
        return (m2 / n, m3 / n, m4 / n)
    }

    /// The skewness m3/m2^(3/2) from population moments.
    public static func skewness(_ x: [Double]) -> Double {
        let m = centralMoments(x)
        return m.m3 / (m.m2 * m.m2.squareRoot())
    }

    /// The excess kurtosis κ = m4/m2² − 3 from population moments (0 for a normal distribution).
    public static func excessKurtosis(_ x: [Double]) -> Double {
        let m = centralMoments(x)
        return m.m4 / (m.m2 * m.m2) - 3
    }

    /// The Hoyer density ρ(x) = (‖x‖₁/‖x‖₂)²/D, in [1/D, 1]; 2/π for large Gaussian vectors. NaN for x = 0.
    public static func hoyerDensity(_ x: [Double]) -> Double {
        var l1 = 0.0, l2Squared = 0.0
        for v in x {
            l1 += abs(v)
            l2Squared += v * v
        }
        guard l2Squared > 0 else { return .nan }
        return l1 * l1 / l2Squared / Double(x.count)
    }

    /// The participation ratio (Σσ²)²/Σσ⁴ of singular values σ (an effective dimension).
    public static func participationRatio(singularValues sigma: [Double]) -> Double {
        var sum2 = 0.0, sum4 = 0.0
        for s in sigma {
            sum2 += s * s
            sum4 += s * s * s * s
        }
        return sum2 * sum2 / sum4
    }

    /// The smallest k whose k largest σ² reach `fraction` of Σσ² (k90 for fraction 0.9).
    /// The values are sorted descending first, so any order is accepted.
    public static func leadingCount(singularValues sigma: [Double], fraction: Double) -> Int {
        let energies = sigma.map { $0 * $0 }.sorted(by: >)
        let target = fraction * energies.reduce(0, +)
        var cumulative = 0.0
        for (k, e) in energies.enumerated() {
            cumulative += e
            // The tolerance keeps fraction 1 from failing on rounding of the cumulative sum.
            if cumulative >= target * (1 - 1e-12) { return k + 1 }
        }
        return energies.count
    }

    /// The cosine of the angle between x and y (NaN if either is zero).
    public static func cosineSimilarity(_ x: [Double], _ y: [Double]) -> Double {
        precondition(x.count == y.count, "Statistics.cosineSimilarity: lengths differ (\(x.count) vs \(y.count))")
        var dot = 0.0, xx = 0.0, yy = 0.0
        for i in x.indices {
            dot += x[i] * y[i]
            xx += x[i] * x[i]
            yy += y[i] * y[i]
        }
        guard xx > 0, yy > 0 else { return .nan }
        return dot / (xx.squareRoot() * yy.squareRoot())
    }

    /// ln Σ exp(xᵢ), computed stably by shifting by the maximum.
    public static func logSumExp(_ x: [Double]) -> Double { logSumExp(x, widen: { $0 }) }

    /// The log-softmax xᵢ − logSumExp(x).
    public static func logSoftmax(_ x: [Double]) -> [Double] {
        let normalizer = logSumExp(x)
        return x.map { $0 - normalizer }
    }

    /// KL(p ‖ q) = Σ pᵢ (ln pᵢ − ln qᵢ) in nats, with p = softmax(logitsP) and q = softmax(logitsQ).
    ///
    /// Follows the LoT code: probabilities that are exactly 0 after exponentiating the Float64
    /// log-softmax are replaced by machine epsilon (2.22e-16) in both p and q; there is no renormalization.
    public static func klDivergence(logitsP: [Double], logitsQ: [Double]) -> Double {
        logitsP.withUnsafeBufferPointer { p in
            logitsQ.withUnsafeBufferPointer { q in klDivergence(p, q, normalizerQ: nil, widen: { $0 }) }
        }
    }

    /// KL(p ‖ q) from Float32 logits (widened to Float64 first).
    public static func klDivergence(logitsP: [Float], logitsQ: [Float]) -> Double {
        logitsP.withUnsafeBufferPointer { p in
            logitsQ.withUnsafeBufferPointer { q in klDivergence(logitsP: p, logitsQ: q) }
        }
    }

    /// KL(p ‖ q) from Float32 logits in place, e.g. rows of a `[rows × vocabulary]` buffer.
    public static func klDivergence(logitsP: UnsafeBufferPointer<Float>, logitsQ: UnsafeBufferPointer<Float>) -> Double {
        klDivergence(logitsP, logitsQ, normalizerQ: nil, widen: Double.init)
    }

    /// KL(p ‖ q) when q's normalizer ``logSumExp(_:)-swift.type.method`` is already known: a reference row
    /// compared against many others pays for its normalizer once. Same bits as without it.
    public static func klDivergence(logitsP: UnsafeBufferPointer<Float>, logitsQ: UnsafeBufferPointer<Float>,
                                    normalizerQ: Double) -> Double {
        klDivergence(logitsP, logitsQ, normalizerQ: normalizerQ, widen: Double.init)
    }

    /// ln Σ exp(xᵢ) of Float32 logits, widened to Float64 (the normalizer ``klDivergence(logitsP:logitsQ:normalizerQ:)`` takes).
    public static func logSumExp(_ logits: UnsafeBufferPointer<Float>) -> Double { logSumExp(logits, widen: Double.init) }

    /// Below this, `exp` of a Double is exactly 0 (e^−745.14 rounds to 0), so it need not be called.
    static let expUnderflow = -746.0

    private static func logSumExp<C: Collection>(_ x: C, widen: (C.Element) -> Double) -> Double {
        guard let top = x.lazy.map(widen).max() else { return -.infinity }
        guard top.isFinite else { return top }
        var sum = 0.0
        for v in x {
            // Below −746 exp is exactly 0 (the smallest subnormal is e^−744.4), so skipping it keeps
            // the bits; glibc's exp takes a slow underflow path there, which a random-init model's
            // wide logits hit on most of a 49k vocabulary.
            let d = widen(v) - top
            if d > Self.expUnderflow { sum += exp(d) }
        }
        return top + log(sum)
    }

    private static func klDivergence<E>(_ logitsP: UnsafeBufferPointer<E>, _ logitsQ: UnsafeBufferPointer<E>,
                                        normalizerQ knownNormalizerQ: Double?, widen: (E) -> Double) -> Double {
        precondition(logitsP.count == logitsQ.count,
                     "Statistics.klDivergence: vocabularies differ (\(logitsP.count) vs \(logitsQ.count))")
        let normalizerP = logSumExp(logitsP, widen: widen)
        let normalizerQ = knownNormalizerQ ?? logSumExp(logitsQ, widen: widen)
        let floor = log(Double.ulpOfOne)
        var kl = 0.0
        for i in logitsP.indices {
            var lp = widen(logitsP[i]) - normalizerP
            var p = lp > Self.expUnderflow ? exp(lp) : 0
            if p == 0 {
                p = .ulpOfOne
                lp = floor
            }
            var lq = widen(logitsQ[i]) - normalizerQ
            // exp underflows to 0 only far below −700; skip the exponential above that (and below
            // −746, where it is certainly 0).
            if lq < -700, lq <= Self.expUnderflow || exp(lq) == 0 { lq = floor }
            kl += p * (lp - lq)
        }
        return kl
    }
}
