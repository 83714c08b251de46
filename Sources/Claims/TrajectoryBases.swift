import Analysis

/// The Lines-of-Thought trajectories of the pilot token and their per-layer singular bases,
/// shared by LoT-1 and LoT-3 (claims spec §2, "Bases").
///
/// X(t) is the `[N × D]` matrix of last-token states after block t, t = 1…L: the embedding
/// is excluded and the last point is the pre-norm h_L. Each layer gets the **uncentered**
/// SVD of the D×N matrix M(t) = X(t)ᵀ, whose left singular vectors U(t) are the right
/// singular vectors of X(t). The bases are then aligned layer to layer (``align(previous:current:singularValues:)``).
struct TrajectoryBases: Sendable {
    /// `states[t − 1]` is X(t), `[N × D]`.
    var states: [Matrix]
    /// `singularValues[t − 1]` is σ(t), descending, D values.
    var singularValues: [[Double]]
    /// `aligned[t − 1]` is ψ(t) stored **row-wise** (`[D × D]`, row i = ψ_i(t)), aligned to ψ(t − 1).
    var aligned: [Matrix]
    /// σ(t) permuted exactly as the rows of ψ(t), so σ'_i(t) stays attached to ψ_i(t).
    var alignedSingularValues: [[Double]]

    /// L, the number of trajectory points.
    var layerCount: Int { states.count }
    /// N, the number of trajectories.
    var sampleCount: Int { states.first?.rows ?? 0 }
    /// D, the model width.
    var width: Int { states.first?.columns ?? 0 }

    /// Computes the SVD of every layer and aligns the bases; needs N ≥ D so each basis spans ℝ^D.
    init(states: [Matrix], claim: String) throws {
        guard let first = states.first else {
            throw ClaimError.insufficientData("\(claim): no trajectory points (the model has no blocks)")
        }
        try Self.requireSpanning(count: first.rows, width: first.columns, claim: claim)
        self.states = states
        var rawBases: [Matrix] = []
        singularValues = []
        for x in states {
            // X = U Σ Vᵀ, so Xᵀ = V Σ Uᵀ: the rows of Vᵀ are the left singular vectors of M(t) = Xᵀ.
            let svd = try x.singularValueDecomposition()
            rawBases.append(svd.vt)
            singularValues.append(svd.singularValues)
        }
        aligned = [rawBases[0]]
        alignedSingularValues = [singularValues[0]]
        for t in 1..<max(1, rawBases.count) {
            let next = Self.align(previous: aligned[t - 1], current: rawBases[t], singularValues: singularValues[t])
            aligned.append(next.basis)
            alignedSingularValues.append(next.singularValues)
        }
    }

    /// Throws unless N ≥ D: with fewer trajectories each layer's basis has rank N, not D.
    static func requireSpanning(count: Int, width: Int, claim: String) throws {
        guard count >= width else {
            throw ClaimError.insufficientData(
                "\(claim) needs at least as many trajectories as the model width (N = \(count) < D = \(width)), "
                    + "otherwise each layer's basis has rank N; raise the suite's `sampling: count` to ≥ \(width)")
        }
    }

    /// Step 1 of LoT-3: matches each row i of `previous`, in order, to the unused row j of
    /// `current` with the largest |⟨ψ_i, u_j⟩|, flips its sign so the inner product is ≥ 0,
    /// and permutes `singularValues` the same way (the authors' code forgets this last step).
    ///
    /// Bases are stored row-wise (`[k × D]`, one basis vector per row).
    static func align(previous: Matrix, current: Matrix, singularValues: [Double])
        -> (basis: Matrix, singularValues: [Double], permutation: [Int])
    {
        precondition(previous.rows == current.rows && previous.columns == current.columns
                     && singularValues.count == current.rows,
                     "TrajectoryBases.align: shapes differ (\(previous.rows)×\(previous.columns), \(current.rows)×\(current.columns), \(singularValues.count) σ)")
        let k = current.rows, d = current.columns
        let overlaps = Matrix.product(previous, current, transposeRight: true)
        var used = [Bool](repeating: false, count: k)
        var permutation = [Int](repeating: 0, count: k)
        var signs = [Double](repeating: 1, count: k)
        for i in 0..<k {
            var best = -1, bestMagnitude = -1.0
            for j in 0..<k where !used[j] {
                let magnitude = abs(overlaps[i, j])
                if magnitude > bestMagnitude { best = j; bestMagnitude = magnitude }
            }
            used[best] = true
            permutation[i] = best
            signs[i] = overlaps[i, best] < 0 ? -1 : 1
        }
        var basis = Matrix(rows: k, columns: d)
        basis.withUnsafeMutableStorage { out in
            current.storage.withUnsafeBufferPointer { source in
                for i in 0..<k {
                    let from = permutation[i] * d, to = i * d
                    for c in 0..<d { out[to + c] = signs[i] * source[from + c] }
                }
            }
        }
        return (basis, permutation.map { singularValues[$0] }, permutation)
    }
}

extension ClaimContext {
    /// The LoT trajectories of this subject's model on the `.chunks` sampling with their
    /// per-layer SVDs and aligned bases, memoized so LoT-1 and LoT-3 share one SVD per layer.
    func trajectoryBases(claim: String) throws -> TrajectoryBases {
        let sampling = try requireSampling(claim)
        let key = "lot-bases/\(modelTag)/\(sampling.corpus)/\(sampling.count)/\(sampling.tokens)"
        // Refuse before running the model: with N < D the bases cannot span ℝ^D.
        try TrajectoryBases.requireSpanning(count: sampling.count, width: model().configuration.modelWidth, claim: claim)
        let states = try lastPositionStates(.chunks)
        return try resources.memoized(key) {
            try TrajectoryBases(states: Array(states.residual.dropFirst()), claim: claim)
        }
    }
}
