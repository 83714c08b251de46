import Analysis
import BLASThreading
import Profiling
import Foundation

/// The Lines-of-Thought trajectories of the pilot token and their per-layer singular bases,
/// shared by LoT-1, LoT-3, LoT-4, LoT-5 and the singular-vector angles (claims spec §2, "Bases").
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
    var layerCount: Int { aligned.count }
    /// N, the number of trajectories (0 for bases built from Gram matrices, which keep no states).
    var sampleCount: Int { states.first?.rows ?? 0 }
    /// D, the model width.
    var width: Int { aligned.first?.columns ?? 0 }

    /// How each layer's basis is computed.
    enum Decomposition {
        /// The thin SVD of X(t) (LAPACK dgesdd): the point estimates.
        case svd
        /// The eigendecomposition of the Gram matrix X(t)ᵀX(t) (dsyevd), half the cost of the SVD;
        /// σ² are its eigenvalues, so a σᵢ far below σ₁ carries a relative error near ε·σ₁²/σᵢ².
        /// Used for the jackknife refits, whose spread dwarfs that.
        case gram
    }

    /// Computes the SVD of every layer and aligns the bases; needs N ≥ D so each basis spans ℝ^D.
    init(states: [Matrix], claim: String, decomposition: Decomposition = .svd) throws {
        guard let first = states.first else {
            throw ClaimError.insufficientData("\(claim): no trajectory points (the model has no blocks)")
        }
        try Self.requireSpanning(count: first.rows, width: first.columns, claim: claim)
        let spectra = try states.map { x in
            switch decomposition {
            case .svd:
                return try LayerSpectrum(svdOf: x)
            case .gram:
                return try LayerSpectrum(gram: Matrix.product(x, x, transposeLeft: true))
            }
        }
        try self.init(states: states, spectra: spectra, claim: claim)
    }

    /// Aligns bases already decomposed (``ClaimContext/chunkSpectra(claim:)``); needs N ≥ D.
    init(states: [Matrix], spectra: [LayerSpectrum], claim: String) throws {
        guard let first = states.first, spectra.count == states.count else {
            throw ClaimError.insufficientData("\(claim): no trajectory points (the model has no blocks)")
        }
        try Self.requireSpanning(count: first.rows, width: first.columns, claim: claim)
        self.states = states
        singularValues = spectra.map(\.singularValues)
        (aligned, alignedSingularValues) = Self.chain(spectra.map(\.vt), singularValues)
    }

    /// The aligned bases of layers 1…T from the Gram matrices G(t) = X(t)ᵀX(t) of `sampleCount`
    /// trajectories (eigendecomposition as ``Decomposition/gram``), keeping no states: ``states``
    /// is empty, so only the maps (``extrapolate(_:from:to:)``) are available. LoT-4 builds one set
    /// per basis/evaluation split this way, from G(all) − G(evaluated).
    init(grams: [Matrix], sampleCount: Int, claim: String) throws {
        guard let first = grams.first else {
            throw ClaimError.insufficientData("\(claim): no trajectory points (the model has no blocks)")
        }
        try Self.requireSpanning(count: sampleCount, width: first.columns, claim: claim)
        states = []
        let spectra = try grams.map { try LayerSpectrum(gram: $0) }
        singularValues = spectra.map(\.singularValues)
        (aligned, alignedSingularValues) = Self.chain(spectra.map(\.vt), singularValues)
    }

    /// Layer 1's basis as it is, every later one aligned to the one before (``align(previous:current:singularValues:)``).
    private static func chain(_ rawBases: [Matrix], _ singularValues: [[Double]]) -> ([Matrix], [[Double]]) {
        var aligned = [rawBases[0]]
        var values = [singularValues[0]]
        for t in 1..<max(1, rawBases.count) {
            let next = align(previous: aligned[t - 1], current: rawBases[t], singularValues: singularValues[t])
            aligned.append(next.basis)
            values.append(next.singularValues)
        }
        return (aligned, values)
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

extension TrajectoryBases {
    /// The coordinates C = X·ψ(t) of the rows of `x` (`[n × D]`) in the aligned basis of layer t (1-based).
    func coordinates(_ x: Matrix, layer t: Int) -> Matrix {
        // ψ(t) is stored row-wise (row i = ψ_i), so C = X·ψ(t) is X times the stored matrix transposed.
        Matrix.product(x, aligned[t - 1], transposeRight: true)
    }

    /// LoT Eq. 1 from precomputed coordinates C = X(t)·ψ(t): X̃ = (C·diag(σ(t₂)/σ(t)))·ψ(t₂)ᵀ, row-wise.
    func extrapolate(coordinates: Matrix, from t: Int, to t2: Int) -> Matrix {
        let from = alignedSingularValues[t - 1], to = alignedSingularValues[t2 - 1]
        let d = coordinates.columns, n = coordinates.rows
        // A zero singular value (rank-deficient layer) carries no stretch information; keep the coordinate.
        let scale = (0..<d).map { from[$0] > 0 ? to[$0] / from[$0] : 1 }
        var stretched = coordinates
        stretched.withUnsafeMutableStorage { c in
            for r in 0..<n {
                for i in 0..<d { c[r * d + i] *= scale[i] }
            }
        }
        return Matrix.product(stretched, aligned[t2 - 1])
    }

    /// LoT Eq. 1 for the rows of `x` at layer t: X̃(t₂) = ψ(t₂)·diag(σ(t₂)/σ(t))·ψ(t)ᵀ·x, row-wise.
    /// `x` need not be the ensemble the bases were fitted on (LoT-4 extrapolates a held-out set).
    func extrapolate(_ x: Matrix, from t: Int, to t2: Int) -> Matrix {
        extrapolate(coordinates: coordinates(x, layer: t), from: t, to: t2)
    }

    /// The same maps with layer t's basis (1-based, t ≥ 2) recomputed from the Gram matrix `gram` of
    /// other states and aligned to layer t − 1; later layers are not re-aligned. LoT-4's model-true
    /// control swaps in the basis of a synthetic target layer this way.
    func replacingLayer(_ t: Int, gram: Matrix) throws -> TrajectoryBases {
        precondition(t >= 2 && t <= layerCount, "TrajectoryBases.replacingLayer: layer \(t) of \(layerCount)")
        let basis = try LayerSpectrum(gram: gram)
        let next = Self.align(previous: aligned[t - 2], current: basis.vt, singularValues: basis.singularValues)
        var copy = self
        copy.singularValues[t - 1] = basis.singularValues
        copy.aligned[t - 1] = next.basis
        copy.alignedSingularValues[t - 1] = next.singularValues
        return copy
    }

    /// The same trajectories with their last point replaced by `last` (e.g. the final-norm output,
    /// the HF convention of LoT-5): only that layer is decomposed again and aligned to layer L − 1.
    func replacingLastPoint(with last: Matrix, claim: String) throws -> TrajectoryBases {
        guard last.rows == sampleCount && last.columns == width else {
            throw ClaimError.insufficientData("\(claim): the replacement last point is \(last.rows)×\(last.columns), the trajectories \(sampleCount)×\(width)")
        }
        var copy = self
        let svd = try last.singularValueDecomposition()
        copy.states[layerCount - 1] = last
        copy.singularValues[layerCount - 1] = svd.singularValues
        if layerCount == 1 {
            copy.aligned[0] = svd.vt
            copy.alignedSingularValues[0] = svd.singularValues
        } else {
            let next = Self.align(previous: aligned[layerCount - 2], current: svd.vt, singularValues: svd.singularValues)
            copy.aligned[layerCount - 1] = next.basis
            copy.alignedSingularValues[layerCount - 1] = next.singularValues
        }
        return copy
    }
}

/// The LoT-3 residual machinery (claims spec §2 LoT-3, steps 2–5), shared by LoT-3, LoT-5 and LoT-6:
/// per pair t < t₂, δ = X(t₂) − X̃ with X̃ from ``TrajectoryBases/extrapolate(_:from:to:)``,
/// the per-coordinate moments of δ, their averages A1–A3 and the exponential variance fit.
enum TrajectoryResiduals {
    /// The moment aggregates of one pair's residuals.
    struct PairAggregates: Sendable, Equatable {
        var t: Int, t2: Int
        /// mean_i |μ_i|/σ_i.
        var a1: Double
        /// ln(mean_i σ_i²).
        var a2: Double
        /// mean_i ln σ_i².
        var a2MeanLog: Double
        /// mean_i |κ_i|.
        var a3: Double
        var tau: Int { t2 - t }
    }

    /// Steps 2–4 for every pair t < t₂ that `including` accepts, as GEMMs: the coordinates
    /// C(t) = X(t)·ψ(t) once per t, then per pair X̃ = (C(t)·diag(σ(t₂)/σ(t)))·ψ(t₂)ᵀ.
    /// `coordinates`, when given, are ``coordinatesOfEveryLayer(_:)`` of the same bases (computed once
    /// for several passes over them: the same GEMMs, so the same bits).
    static func aggregates(_ bases: TrajectoryBases, coordinates known: [Matrix]? = nil,
                           including: (_ t: Int, _ t2: Int) -> Bool = { _, _ in true }) -> [PairAggregates] {
        let layers = bases.layerCount
        var result: [PairAggregates] = []
        guard layers >= 2 else { return result }
        for t in 1..<layers {
            let targets = ((t + 1)...layers).filter { including(t, $0) }
            guard !targets.isEmpty else { continue }
            let coordinates = known?[t - 1] ?? bases.coordinates(bases.states[t - 1], layer: t)
            for t2 in targets {
                let predicted = bases.extrapolate(coordinates: coordinates, from: t, to: t2)
                result.append(aggregates(actual: bases.states[t2 - 1], predicted: predicted, t: t, t2: t2))
            }
        }
        return result
    }

    /// Steps 3–4: the per-coordinate moments of δ = actual − predicted and their averages.
    static func aggregates(actual: Matrix, predicted: Matrix, t: Int, t2: Int) -> PairAggregates {
        let n = actual.rows, d = actual.columns
        var mean = [Double](repeating: 0, count: d)
        var second = [Double](repeating: 0, count: d)
        var fourth = [Double](repeating: 0, count: d)
        actual.storage.withUnsafeBufferPointer { x in
            predicted.storage.withUnsafeBufferPointer { y in
                for r in 0..<n {
                    let row = r * d
                    for i in 0..<d { mean[i] += x[row + i] - y[row + i] }
                }
                for i in 0..<d { mean[i] /= Double(n) }
                for r in 0..<n {
                    let row = r * d
                    for i in 0..<d {
                        let e = x[row + i] - y[row + i] - mean[i], e2 = e * e
                        second[i] += e2
                        fourth[i] += e2 * e2
                    }
                }
            }
        }
        var a1 = 0.0, meanVariance = 0.0, meanLogVariance = 0.0, a3 = 0.0
        for i in 0..<d {
            let variance = second[i] / Double(n - 1)
            let m2 = second[i] / Double(n), m4 = fourth[i] / Double(n)
            a1 += abs(mean[i]) / variance.squareRoot()
            meanVariance += variance
            meanLogVariance += Foundation.log(variance)
            a3 += abs(m4 / (m2 * m2) - 3)
        }
        let count = Double(d)
        return PairAggregates(t: t, t2: t2, a1: a1 / count, a2: Foundation.log(meanVariance / count),
                              a2MeanLog: meanLogVariance / count, a3: a3 / count)
    }

    /// Step 5: A2 = ln α + λ·(t+τ) over the interior pairs (t ≥ 2, t₂ ≤ L − 1) of `pairs`.
    static func interiorFit(_ pairs: [PairAggregates], layers: Int) throws -> LinearFit {
        let interior = pairs.filter { $0.t >= 2 && $0.t2 <= layers - 1 }
        return try LinearFit(x: interior.map { Double($0.t2) }, y: interior.map(\.a2))
    }
}

extension ClaimContext {
    /// The LoT trajectories of this subject's model on the `.chunks` sampling with their
    /// per-layer SVDs and aligned bases, memoized so LoT-1 and LoT-3 share one SVD per layer.
    func trajectoryBases(claim: String) throws -> TrajectoryBases {
        let sampling = try requireSampling(claim)
        let key = "lot-bases/\(modelTag)/\(sampling.corpus)/\(sampling.count)/\(sampling.tokens)"
        // Refuse before running the model: with N < D the bases cannot span ℝ^D.
        try TrajectoryBases.requireSpanning(count: sampling.count, width: resources.modelShape(modelRole).modelWidth, claim: claim)
        let states = try lastPositionStates(.chunks)
        let spectra = try chunkSpectra(claim: claim)
        return try resources.memoized(key) {
            try TrajectoryBases(states: Array(states.residual.dropFirst()), spectra: spectra, claim: claim)
        }
    }

    /// The thin SVD of X(t), t = 1…L, over every sampled chunk: computed once per subject and sampling,
    /// since LoT-2's truncation bases and the trajectory bases of LoT-1/3/5 and the angles decompose the same states.
    func chunkSpectra(claim: String) throws -> [LayerSpectrum] {
        let sampling = try requireSampling(claim)
        let states = try lastPositionStates(.chunks)
        return try resources.memoized("lot-svd/\(modelTag)/\(sampling.corpus)/\(sampling.count)/\(sampling.tokens)") {
            try states.residual.dropFirst().map { try LayerSpectrum(svdOf: $0) }
        }
    }
}

/// One layer's right singular vectors (rows of Vᵀ, by decreasing σ) and singular values; the left
/// vectors are dropped, since no check reads them and they would hold N × D values per layer.
struct LayerSpectrum: Sendable {
    var vt: Matrix
    var singularValues: [Double]

    init(vt: Matrix, singularValues: [Double]) {
        self.vt = vt
        self.singularValues = singularValues
    }

    /// X = U Σ Vᵀ, so Xᵀ = V Σ Uᵀ: the rows of Vᵀ are the left singular vectors of M(t) = Xᵀ.
    init(svdOf x: Matrix) throws {
        let svd = try x.singularValueDecomposition()
        self.init(vt: svd.vt, singularValues: svd.singularValues)
    }

    /// From the Gram matrix XᵀX (dsyevd): its eigenvectors are the rows of Vᵀ and its eigenvalues σ².
    init(gram: Matrix) throws {
        let eigen = try gram.symmetricEigendecomposition()
        let d = gram.columns
        // Eigenvalues ascend: the basis rows are the eigenvector columns in reverse order.
        self.init(vt: eigen.vectors.transposed().rows(at: (0..<d).reversed()),
                  singularValues: (0..<d).reversed().map { max(0, eigen.values[$0]).squareRoot() })
    }
}

extension ClaimContext {
    /// The LoT-3 aggregates of every pair t < t₂ of ``trajectoryBases(claim:)``, memoized so
    /// LoT-3 and LoT-5 share the 435 extrapolations of a 30-block model.
    func trajectoryResiduals(claim: String) throws -> (bases: TrajectoryBases, pairs: [TrajectoryResiduals.PairAggregates]) {
        let bases = try trajectoryBases(claim: claim)
        let sampling = try requireSampling(claim)
        let key = "lot-residuals/\(modelTag)/\(sampling.corpus)/\(sampling.count)/\(sampling.tokens)"
        let pairs = try resources.memoized(key) { TrajectoryResiduals.aggregates(bases) }
        return (bases, pairs)
    }
}

extension TrajectoryResiduals {
    /// C(t) = X(t)·ψ(t)ᵀ for t = 1…L, `[t − 1]`: what ``aggregates(_:coordinates:including:)`` and
    /// ``rotatedA2(_:coordinates:)`` both start from.
    static func coordinatesOfEveryLayer(_ bases: TrajectoryBases) -> [Matrix] {
        (0..<bases.layerCount).map { bases.coordinates(bases.states[$0], layer: $0 + 1) }
    }

    /// A2 = ln(mean_i σ_i²) of every pair t < t₂, computed in the aligned basis of t₂: since ψ(t₂) is
    /// orthonormal, δ·ψ(t₂)ᵀ = C(t₂) − C(t)·diag(σ(t₂)/σ(t)) with C(t) = X(t)·ψ(t)ᵀ, and the total
    /// variance Σ_i σ_i² is the same in either basis. One GEMM per layer instead of one per pair;
    /// equal to ``aggregates(_:coordinates:including:)``'s A2 up to rounding. `[t − 1][t₂ − t − 1]`.
    static func rotatedA2(_ bases: TrajectoryBases, coordinates known: [Matrix]? = nil) -> [[Double]] {
        let layers = bases.layerCount, n = bases.sampleCount, d = bases.width
        let coordinates = known ?? coordinatesOfEveryLayer(bases)
        return (1..<max(1, layers)).map { t in
            let from = bases.alignedSingularValues[t - 1]
            return ((t + 1)...layers).map { t2 in
                let to = bases.alignedSingularValues[t2 - 1]
                let scale = (0..<d).map { from[$0] > 0 ? to[$0] / from[$0] : 1 }
                // Row-major sweeps: per column, Σe and Σe² of e = C(t₂) − C(t)·scale.
                var sums = [Double](repeating: 0, count: d), squares = sums
                coordinates[t - 1].storage.withUnsafeBufferPointer { c in
                    coordinates[t2 - 1].storage.withUnsafeBufferPointer { c2 in
                        for r in 0..<n {
                            let row = r * d
                            for i in 0..<d {
                                let e = c2[row + i] - c[row + i] * scale[i]
                                sums[i] += e
                                squares[i] += e * e
                            }
                        }
                    }
                }
                var total = 0.0
                for i in 0..<d { total += (squares[i] - sums[i] * sums[i] / Double(n)) / Double(n - 1) }
                return log(total / Double(d))
            }
        }
    }
}

/// One leave-one-group-out refit of the Lines-of-Thought trajectories (claims spec §0.8: the
/// SVD-based checks use a delete-a-group jackknife): everything LoT-1, LoT-3, LoT-5 and the
/// singular-vector angles derive from their bases, recomputed without one group of trajectories.
struct TrajectoryReplicate: Sendable {
    /// σ(t) per layer, descending.
    var singularValues: [[Double]]
    /// The full aggregates (A1, A2, A3) of every τ = 1 pair, in t order.
    var steps: [TrajectoryResiduals.PairAggregates]
    /// A2 of every pair, `[t − 1][t₂ − t − 1]` (``TrajectoryResiduals/rotatedA2(_:coordinates:)``).
    var a2: [[Double]]
    /// The last τ = 1 step with the final-norm output as the last point (LoT-5's HF convention).
    var lastStepHF: TrajectoryResiduals.PairAggregates?
    /// The first four aligned singular vectors of each layer (rows), for the angles.
    var leading: [Matrix]

    /// The pairs of ``a2`` with the τ = 1 ones carrying their full aggregates, as the point
    /// estimate's list: what the fits of LoT-3 and LoT-5 read.
    var pairs: [TrajectoryResiduals.PairAggregates] {
        var result: [TrajectoryResiduals.PairAggregates] = []
        for (row, values) in a2.enumerated() {
            let t = row + 1
            for (offset, value) in values.enumerated() {
                let t2 = t + offset + 1
                if t2 == t + 1, let step = steps.first(where: { $0.t == t }) {
                    result.append(step)
                } else {
                    result.append(.init(t: t, t2: t2, a1: .nan, a2: value, a2MeanLog: .nan, a3: .nan))
                }
            }
        }
        return result
    }
}

extension ClaimContext {
    /// The delete-a-group jackknife of the LoT trajectories of this subject's model: G refits of
    /// the bases, each without one group of trajectories, shared (memoized) by every LoT check.
    func trajectoryJackknife(claim: String) throws -> (jackknife: GroupJackknife, replicates: [TrajectoryReplicate]) {
        let sampling = try requireSampling(claim)
        let states = try lastPositionStates(.chunks)
        let jackknife = self.jackknife(states.sampleCount)
        let key = "lot-jackknife/\(modelTag)/\(sampling.corpus)/\(sampling.count)/\(sampling.tokens)/\(resampling.groups)/\(seed)"
        let replicates = try resources.memoized(key) {
            let layers = states.blockCount
            return try TrajectoryBases.jackknife(Array(states.residual.dropFirst()), jackknife, claim: claim) { bases, kept in
                // One coordinate GEMM per layer for both the τ = 1 steps and every pair's A2.
                let coordinates = TrajectoryResiduals.coordinatesOfEveryLayer(bases)
                let steps = TrajectoryResiduals.aggregates(bases, coordinates: coordinates) { $1 - $0 == 1 }
                let hf = try bases.replacingLastPoint(with: states.finalNorm.rows(at: kept), claim: claim)
                let last = TrajectoryResiduals.aggregates(hf) { $1 == layers && $1 - $0 == 1 }.first
                return TrajectoryReplicate(singularValues: bases.singularValues, steps: steps,
                                           a2: TrajectoryResiduals.rotatedA2(bases, coordinates: coordinates), lastStepHF: last,
                                           leading: bases.aligned.map { $0.rows(at: 0..<min(4, $0.rows)) })
            }
        }
        return (jackknife, replicates)
    }
}

extension TrajectoryBases {
    /// For each jackknife group g: the bases of `trajectory` (`[t − 1]` = X(t)) refitted without the
    /// group's rows (Gram eigendecomposition), and `derive(bases, kept rows)`. Two groups at a time.
    static func jackknife<T: Sendable>(_ trajectory: [Matrix], _ jackknife: GroupJackknife, claim: String,
                                       derive: (TrajectoryBases, [Int]) throws -> T) throws -> [T] {
        let results = PhaseClock.time(.resampling, work: jackknife.groups.count) { () -> [Result<T, any Error>] in
            // Each layer's Gram matrix once; a refit subtracts its group's rows: G₋g = XᵀX − X_gᵀX_g.
            let grams = trajectory.map { Matrix.product($0, $0, transposeLeft: true) }
            // Each worker runs single-threaded BLAS so the refits are bit-reproducible whatever the scheduling.
            return BLASThreads.withSingleThread {
                Parallel.map(jackknife.groups.count, workers: 2) { g -> Result<T, any Error> in
                    Result {
                        let kept = jackknife.kept(g), removed = jackknife.groups[g]
                        let spectra = try trajectory.indices.map { t in
                            let left = trajectory[t].rows(at: removed)
                            var downdated = grams[t]
                            let removedGram = Matrix.product(left, left, transposeLeft: true)
                            downdated.withUnsafeMutableStorage { out in
                                removedGram.storage.withUnsafeBufferPointer { minus in
                                    for i in out.indices { out[i] -= minus[i] }
                                }
                            }
                            return try LayerSpectrum(gram: downdated)
                        }
                        return try derive(try TrajectoryBases(states: trajectory.map { $0.rows(at: kept) }, spectra: spectra,
                                                              claim: claim), kept)
                    }
                }
            }
        }
        return try results.map { try $0.get() }
    }
}
