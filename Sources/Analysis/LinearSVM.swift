/// A linear support vector machine with squared hinge loss and L2 regularization.
///
/// Training minimizes (λ/2)·(‖w‖² + b²) + (1/n)·Σᵢ max(0, 1 − yᵢ(w·xᵢ + b))² on features
/// standardized with the training set's column means and sample SDs (SD < 1e-12 → scale 1). The
/// bias is learned as the weight of a constant feature 1 and is therefore **regularized too** (as
/// in LIBLINEAR); on standardized features with balanced classes the unregularized optimum has
/// b ≈ 0 anyway, so the penalty barely moves it.
/// Solver: dual coordinate descent for the L2-loss SVM (Hsieh et al. 2008) with C = 1/(λn),
/// visiting coordinates in a fresh `PCG64(seed:)` permutation each epoch, stopping when the
/// spread of the projected gradient (the largest violation of the optimality conditions) falls
/// below `tolerance`, or after `maxEpochs` (then ``converged`` is false). ``relativeDualityGap``
/// says how far the returned w is from the optimum of the objective. Deterministic.
public struct LinearSVM: Sendable {
    /// Weights in standardized feature units.
    public private(set) var weights: [Double]
    /// The bias (weight of the constant feature).
    public private(set) var bias: Double
    /// Epochs the solver ran.
    public private(set) var epochs: Int
    /// Whether the projected-gradient spread fell below the tolerance within `maxEpochs`.
    public private(set) var converged: Bool
    /// (P(w) − D(α))/P(w) for the returned solution, with P the primal and D the dual objective
    /// (C-form, C = 1/(λn)): an upper bound on the relative excess of the objective over its optimum.
    public private(set) var relativeDualityGap: Double
    private let featureMeans: [Double]
    private let featureScales: [Double]

    /// Trains on the rows of `features` with boolean labels (true = positive class).
    public init(features: Matrix, labels: [Bool], lambda: Double = 1e-2, seed: UInt64 = 0,
                tolerance: Double = 1e-2, maxEpochs: Int = 1000) {
        precondition(features.rows == labels.count, "LinearSVM: \(labels.count) labels for \(features.rows) rows")
        precondition(features.rows > 0 && lambda > 0, "LinearSVM: needs samples and λ > 0")
        let n = features.rows, d = features.columns, width = d + 1
        var means = [Double](repeating: 0, count: d), scales = means
        for c in 0..<d {
            let column = features.column(c)
            means[c] = Statistics.mean(column)
            let sd = n > 1 ? Statistics.standardDeviation(column) : 0
            scales[c] = sd >= Statistics.degenerateSD ? sd : 1
        }
        featureMeans = means
        featureScales = scales
        let data = LinearSVM.augment(features, means: means, scales: scales)
        let y = labels.map { $0 ? 1.0 : -1.0 }
        let diagonal = 0.5 * lambda * Double(n)  // 1/(2C) with C = 1/(λn)
        var w = [Double](repeating: 0, count: width)
        var alpha = [Double](repeating: 0, count: n)
        var qii = [Double](repeating: diagonal, count: n)
        var rng = PCG64(seed: seed)
        var epoch = 0
        var solved = false
        var gap = Double.nan
        data.storage.withUnsafeBufferPointer { x in
            w.withUnsafeMutableBufferPointer { w in
                for i in 0..<n {
                    for k in 0..<width { qii[i] += x[i * width + k] * x[i * width + k] }
                }
                while epoch < maxEpochs {
                    epoch += 1
                    var largest = -Double.infinity, smallest = Double.infinity
                    for i in rng.permutation(n) {
                        let row = x.baseAddress! + i * width
                        var margin = 0.0
                        for k in 0..<width { margin += w[k] * row[k] }
                        let gradient = y[i] * margin - 1 + diagonal * alpha[i]
                        let projected = alpha[i] == 0 ? Swift.min(gradient, 0) : gradient
                        largest = Swift.max(largest, projected)
                        smallest = Swift.min(smallest, projected)
                        if projected != 0 {
                            let old = alpha[i]
                            alpha[i] = Swift.max(old - gradient / qii[i], 0)
                            let step = (alpha[i] - old) * y[i]
                            for k in 0..<width { w[k] += step * row[k] }
                        }
                    }
                    if largest - smallest < tolerance { solved = true; break }
                }
                // Duality gap in the C-form: P(w) = ½‖w‖² + C·Σξᵢ², D(α) = Σαᵢ − ½‖w‖² − Σαᵢ²/(4C),
                // with 1/(4C) = diagonal/2 and w = Σ αᵢyᵢxᵢ maintained by the updates.
                let c = 1 / (2 * diagonal)
                var norm = 0.0, slack = 0.0, alphaSum = 0.0, alphaSquares = 0.0
                for k in 0..<width { norm += w[k] * w[k] }
                for i in 0..<n {
                    let row = x.baseAddress! + i * width
                    var margin = 0.0
                    for k in 0..<width { margin += w[k] * row[k] }
                    let xi = Swift.max(0, 1 - y[i] * margin)
                    slack += xi * xi
                    alphaSum += alpha[i]
                    alphaSquares += alpha[i] * alpha[i]
                }
                let primal = 0.5 * norm + c * slack
                let dual = alphaSum - 0.5 * norm - 0.5 * diagonal * alphaSquares
                gap = primal > 0 ? Swift.max(0, primal - dual) / primal : 0
            }
        }
        weights = Array(w.prefix(d))
        bias = w[d]
        epochs = epoch
        converged = solved
        relativeDualityGap = gap
    }

    /// Rows standardized with the given statistics, with a trailing constant-1 column.
    private static func augment(_ features: Matrix, means: [Double], scales: [Double]) -> Matrix {
        let d = features.columns
        var out = Matrix(rows: features.rows, columns: d + 1, repeating: 1)
        out.withUnsafeMutableStorage { o in
            for r in 0..<features.rows {
                for c in 0..<d { o[r * (d + 1) + c] = (features.storage[r * d + c] - means[c]) / scales[c] }
            }
        }
        return out
    }

    /// The decision values w·x̂ + b for each row (x̂ standardized with the training statistics).
    public func decisionValues(_ features: Matrix) -> [Double] {
        precondition(features.columns == weights.count,
                     "LinearSVM: \(features.columns) features, trained on \(weights.count)")
        let data = LinearSVM.augment(features, means: featureMeans, scales: featureScales)
        return data.applied(to: weights + [bias])
    }

    /// Predicted labels: true where the decision value is > 0.
    public func predict(_ features: Matrix) -> [Bool] {
        decisionValues(features).map { $0 > 0 }
    }
}

/// The result of grouped k-fold cross-validation.
public struct CrossValidation: Sendable, Equatable {
    /// Correct held-out predictions over all samples (pooled, not the mean of folds).
    public var accuracy: Double
    /// The held-out accuracy of each fold, in fold order.
    public var foldAccuracies: [Double]
    /// Whether each sample's held-out prediction was correct, in row order.
    public var correct: [Bool]
    /// The most epochs any fold's solver ran.
    public var epochs: Int
    /// Whether every fold's solver met the tolerance.
    public var converged: Bool
    /// The largest relative duality gap of the fold models (``LinearSVM/relativeDualityGap``).
    public var maxRelativeDualityGap: Double

    /// Grouped k-fold cross-validation of ``LinearSVM``: all samples of a group (e.g. a trajectory)
    /// land in the same fold. The distinct group ids, sorted ascending, are shuffled with
    /// `PCG64(seed: seed)` (``PCG64/shuffle(_:)``) and the group at shuffled position p goes to fold p mod k.
    /// Each fold's model uses `lambda`, seed `seed` and the solver's `tolerance` and `maxEpochs`.
    public init(features: Matrix, labels: [Bool], groups: [Int], folds: Int = 5, lambda: Double = 1e-2, seed: UInt64 = 0,
                tolerance: Double = 1e-2, maxEpochs: Int = 1000) {
        precondition(labels.count == features.rows && groups.count == features.rows,
                     "CrossValidation: labels/groups must have one entry per row")
        var order = Array(Set(groups)).sorted()
        precondition(order.count >= folds && folds >= 2, "CrossValidation: needs ≥ \(folds) groups and ≥ 2 folds")
        var rng = PCG64(seed: seed)
        rng.shuffle(&order)
        var foldOfGroup: [Int: Int] = [:]
        for (p, g) in order.enumerated() { foldOfGroup[g] = p % folds }
        let foldOfSample = groups.map { foldOfGroup[$0]! }
        var hitsTotal = 0
        var perFold: [Double] = []
        var correct = [Bool](repeating: false, count: features.rows)
        var epochs = 0, converged = true, gap = 0.0
        for f in 0..<folds {
            let test = foldOfSample.indices.filter { foldOfSample[$0] == f }
            let train = foldOfSample.indices.filter { foldOfSample[$0] != f }
            let model = LinearSVM(features: features.rows(at: train), labels: train.map { labels[$0] },
                                  lambda: lambda, seed: seed, tolerance: tolerance, maxEpochs: maxEpochs)
            let predicted = model.predict(features.rows(at: test))
            var hits = 0
            for (guess, row) in zip(predicted, test) where guess == labels[row] {
                correct[row] = true
                hits += 1
            }
            hitsTotal += hits
            perFold.append(Double(hits) / Double(test.count))
            epochs = max(epochs, model.epochs)
            converged = converged && model.converged
            gap = max(gap, model.relativeDualityGap)
        }
        accuracy = Double(hitsTotal) / Double(features.rows)
        foldAccuracies = perFold
        self.correct = correct
        self.epochs = epochs
        self.converged = converged
        maxRelativeDualityGap = gap
    }

    /// The label-permutation null: pooled cross-validated accuracies after shuffling the labels
    /// across samples, once per permutation r with `PCG64(seed: seed, stream: r + 1)`
    /// (``PCG64/shuffle(_:)``), keeping features, groups and folds.
    public static func permutationNull(features: Matrix, labels: [Bool], groups: [Int], folds: Int = 5,
                                       lambda: Double = 1e-2, permutations: Int, seed: UInt64 = 0,
                                       tolerance: Double = 1e-2, maxEpochs: Int = 1000) -> [Double] {
        (0..<permutations).map { r in
            var rng = PCG64(seed: seed, stream: UInt64(r + 1))
            var shuffled = labels
            rng.shuffle(&shuffled)
            return CrossValidation(features: features, labels: shuffled, groups: groups, folds: folds,
                                   lambda: lambda, seed: seed, tolerance: tolerance, maxEpochs: maxEpochs).accuracy
        }
    }
}
