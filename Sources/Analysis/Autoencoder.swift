import COpenBLAS
import Foundation

/// A small fully connected network: tanh on every hidden layer, a linear output layer, trained
/// on mean squared error with ``Adam``. Enough for the compressing autoencoders of the claims
/// (e.g. 576→128→2→128→576) without a training framework.
///
/// **Parameters.** `parameters` is one flat vector (so optimizers and gradient checks treat it
/// as a single array). For each layer k, from inputs `widths[k]` to outputs `widths[k+1]`, it
/// holds the weight matrix W_k (`widths[k+1] × widths[k]`, row-major: one row per output unit)
/// followed by the bias b_k. A layer maps a batch `a` (one sample per row) to `a·W_kᵀ + b_k`.
///
/// **Loss.** The mean over samples and output units of (output − target)².
///
/// **Initialization** (``init(widths:seed:)``): weights i.i.d. N(0, 2/(fan_in + fan_out))
/// (Glorot normal, suited to tanh), drawn in parameter order from ``PCG64`` (seed, stream 0);
/// biases 0.
///
/// **Determinism.** Products go through BLAS dgemm; everything else runs in a fixed order in
/// Float64. For fixed inputs and seed, results repeat bit for bit on one machine as long as
/// OpenBLAS keeps the same kernels and thread count (``BLASThreads/withSingleThread(_:)``
/// pins the count); `tanh` comes from the platform's libm, so other machines may differ in
/// the last bits.
public struct DenseNetwork: Sendable, Equatable {
    /// Layer widths from input to output, e.g. `[576, 128, 2, 128, 576]`.
    public let widths: [Int]
    /// Every weight and bias, layer by layer (see the type documentation for the layout).
    public var parameters: [Double]

    /// A network with Glorot-normal weights and zero biases.
    public init(widths: [Int], seed: UInt64) {
        precondition(widths.count >= 2 && widths.allSatisfy { $0 > 0 },
                     "DenseNetwork: needs at least an input and an output width, all positive; got \(widths)")
        self.widths = widths
        var parameters: [Double] = []
        var rng = PCG64(seed: seed)
        for k in 0..<(widths.count - 1) {
            let fanIn = widths[k], fanOut = widths[k + 1]
            let std = (2.0 / Double(fanIn + fanOut)).squareRoot()
            for _ in 0..<(fanIn * fanOut) { parameters.append(rng.nextGaussian(std: std)) }
            parameters += [Double](repeating: 0, count: fanOut)
        }
        self.parameters = parameters
    }

    /// Number of weight layers.
    public var layerCount: Int { widths.count - 1 }

    /// Where W_k starts in `parameters`.
    public func weightOffset(_ k: Int) -> Int {
        (0..<k).reduce(0) { $0 + widths[$1] * widths[$1 + 1] + widths[$1 + 1] }
    }

    /// Where b_k starts in `parameters`.
    public func biasOffset(_ k: Int) -> Int { weightOffset(k) + widths[k] * widths[k + 1] }

    /// The network's outputs for `inputs` (one sample per row), computed in chunks of rows.
    public func outputs(_ inputs: Matrix) -> Matrix {
        precondition(inputs.columns == widths[0], "DenseNetwork.outputs: inputs have \(inputs.columns) columns, the network takes \(widths[0])")
        let chunk = 1024
        let workspace = Workspace(widths: widths, capacity: min(chunk, max(1, inputs.rows)))
        var out = [Double](repeating: 0, count: inputs.rows * widths[layerCount])
        var start = 0
        while start < inputs.rows {
            let rows = min(chunk, inputs.rows - start)
            workspace.load(inputs, rows: start..<(start + rows))
            forward(workspace, rows: rows)
            let width = widths[layerCount]
            let y = workspace.activations[layerCount]
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<(rows * width) { dst[start * width + i] = y[i] }
            }
            start += rows
        }
        return Matrix(rows: inputs.rows, columns: widths[layerCount], storage: out)
    }

    /// The mean squared error of the outputs against `targets`.
    public func meanSquaredError(inputs: Matrix, targets: Matrix) -> Double {
        let y = outputs(inputs)
        precondition(targets.rows == y.rows && targets.columns == y.columns, "DenseNetwork: targets must be \(y.rows)×\(y.columns)")
        var sum = 0.0
        for i in 0..<y.storage.count {
            let d = y.storage[i] - targets.storage[i]
            sum += d * d
        }
        return sum / Double(max(1, y.storage.count))
    }

    /// The loss on the whole of `inputs`/`targets` as one batch and its gradient with respect
    /// to `parameters` (same layout), by backpropagation.
    public func lossAndGradient(inputs: Matrix, targets: Matrix) -> (loss: Double, gradient: [Double]) {
        precondition(inputs.rows > 0 && inputs.rows == targets.rows && inputs.columns == widths[0]
                     && targets.columns == widths[layerCount],
                     "DenseNetwork.lossAndGradient: inputs must be n×\(widths[0]) and targets n×\(widths[layerCount]), n > 0")
        let workspace = Workspace(widths: widths, capacity: inputs.rows)
        workspace.load(inputs, rows: 0..<inputs.rows)
        workspace.loadTargets(targets, rows: 0..<inputs.rows)
        var gradient = [Double](repeating: 0, count: parameters.count)
        let loss = lossAndGradient(workspace, rows: inputs.rows, into: &gradient)
        return (loss, gradient)
    }

    /// Trains by mini-batch Adam for `steps` steps and returns each step's batch loss.
    ///
    /// Batches are consecutive slices of a random permutation of the rows, drawn from `rng`
    /// with ``PCG64/permutation(_:)`` and redrawn when used up, so every row is seen once
    /// per epoch; a batch that crosses an epoch boundary continues in the next permutation.
    public mutating func train(inputs: Matrix, targets: Matrix, steps: Int, batchSize: Int,
                               optimizer: inout Adam, using rng: inout PCG64) -> [Double] {
        train(inputs: inputs, targets: targets, maxSteps: steps, batchSize: batchSize, optimizer: &optimizer, using: &rng,
              until: { _ in false })
    }

    /// Trains as ``train(inputs:targets:steps:batchSize:optimizer:using:)`` but stops early, after the
    /// first step at which `shouldStop` (given every batch loss so far) returns true; at most `maxSteps`.
    /// The batches and updates up to that step are the same as in a run of fixed length.
    public mutating func train(inputs: Matrix, targets: Matrix, maxSteps steps: Int, batchSize: Int,
                               optimizer: inout Adam, using rng: inout PCG64,
                               until shouldStop: ([Double]) -> Bool) -> [Double] {
        precondition(inputs.rows > 0 && inputs.rows == targets.rows && inputs.columns == widths[0]
                     && targets.columns == widths[layerCount],
                     "DenseNetwork.train: inputs must be n×\(widths[0]) and targets n×\(widths[layerCount]), n > 0")
        precondition(batchSize > 0 && steps >= 0, "DenseNetwork.train: batch size must be positive and steps non-negative")
        precondition(optimizer.parameterCount == parameters.count, "DenseNetwork.train: the optimizer was made for \(optimizer.parameterCount) parameters, the network has \(parameters.count)")
        let workspace = Workspace(widths: widths, capacity: batchSize)
        var gradient = [Double](repeating: 0, count: parameters.count)
        var order = rng.permutation(inputs.rows), cursor = 0
        var losses: [Double] = []
        losses.reserveCapacity(steps)
        var batch = [Int](repeating: 0, count: batchSize)
        for _ in 0..<steps {
            for b in 0..<batchSize {
                if cursor == order.count {
                    order = rng.permutation(inputs.rows)
                    cursor = 0
                }
                batch[b] = order[cursor]
                cursor += 1
            }
            workspace.load(inputs, rows: batch)
            workspace.loadTargets(targets, rows: batch)
            losses.append(lossAndGradient(workspace, rows: batchSize, into: &gradient))
            optimizer.update(&parameters, gradient: gradient)
            if shouldStop(losses) { break }
        }
        return losses
    }

    // MARK: - Forward and backward passes over a workspace

    /// activations[k+1] = act(activations[k]·W_kᵀ + b_k) for the first `rows` rows.
    private func forward(_ workspace: Workspace, rows: Int) {
        parameters.withUnsafeBufferPointer { p in
            for k in 0..<layerCount {
                let fanIn = widths[k], fanOut = widths[k + 1]
                let w = p.baseAddress! + weightOffset(k), bias = p.baseAddress! + biasOffset(k)
                let a = workspace.activations[k], z = workspace.activations[k + 1]
                for r in 0..<rows {
                    for j in 0..<fanOut { z[r * fanOut + j] = bias[j] }
                }
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(fanOut), Int32(fanIn),
                            1, a, Int32(fanIn), w, Int32(fanIn), 1, z, Int32(fanOut))
                if k < layerCount - 1 {
                    for i in 0..<(rows * fanOut) { z[i] = tanh(z[i]) }
                }
            }
        }
    }

    /// Forward pass, then backpropagation of the mean squared error into `gradient`; returns the loss.
    private func lossAndGradient(_ workspace: Workspace, rows: Int, into gradient: inout [Double]) -> Double {
        forward(workspace, rows: rows)
        let last = layerCount, count = rows * widths[last]
        // δ_out = ∂loss/∂output = 2(y − t)/(rows·width).
        let y = workspace.activations[last], t = workspace.targets, dOut = workspace.deltas[last]
        var loss = 0.0
        let scale = 2 / Double(count)
        for i in 0..<count {
            let e = y[i] - t[i]
            loss += e * e
            dOut[i] = scale * e
        }
        parameters.withUnsafeBufferPointer { p in
            gradient.withUnsafeMutableBufferPointer { g in
                for k in stride(from: layerCount - 1, through: 0, by: -1) {
                    let fanIn = widths[k], fanOut = widths[k + 1]
                    let d = workspace.deltas[k + 1], a = workspace.activations[k]
                    // ∂W_k = δ_{k+1}ᵀ · a_k ; ∂b_k = column sums of δ_{k+1}.
                    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(fanOut), Int32(fanIn), Int32(rows),
                                1, d, Int32(fanOut), a, Int32(fanIn), 0, g.baseAddress! + weightOffset(k), Int32(fanIn))
                    let gb = g.baseAddress! + biasOffset(k)
                    for j in 0..<fanOut { gb[j] = 0 }
                    for r in 0..<rows {
                        for j in 0..<fanOut { gb[j] += d[r * fanOut + j] }
                    }
                    guard k > 0 else { continue }
                    // δ_k = (δ_{k+1} · W_k) ⊙ tanh'(z_k), with tanh' = 1 − a_k².
                    let dk = workspace.deltas[k]
                    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(fanIn), Int32(fanOut),
                                1, d, Int32(fanOut), p.baseAddress! + weightOffset(k), Int32(fanIn), 0, dk, Int32(fanIn))
                    for i in 0..<(rows * fanIn) { dk[i] *= 1 - a[i] * a[i] }
                }
            }
        }
        return loss / Double(count)
    }
}

/// Reusable buffers for one batch capacity: the activations of every layer (index 0 = the
/// inputs), the backpropagated errors δ, and the targets. Raw allocations, because the passes
/// read one layer's buffer while writing another's.
private final class Workspace {
    let activations: [UnsafeMutablePointer<Double>]
    let deltas: [UnsafeMutablePointer<Double>]
    let targets: UnsafeMutablePointer<Double>
    let widths: [Int]
    let capacity: Int

    init(widths: [Int], capacity: Int) {
        self.widths = widths
        self.capacity = capacity
        func buffer(_ count: Int) -> UnsafeMutablePointer<Double> {
            let b = UnsafeMutablePointer<Double>.allocate(capacity: count)
            b.initialize(repeating: 0, count: count)
            return b
        }
        activations = widths.map { buffer($0 * capacity) }
        deltas = widths.map { buffer($0 * capacity) }
        targets = buffer(widths[widths.count - 1] * capacity)
    }

    deinit {
        for b in activations + deltas + [targets] { b.deallocate() }
    }

    func load(_ inputs: Matrix, rows: some Sequence<Int>) { gather(inputs, rows: rows, into: activations[0]) }

    func loadTargets(_ targets: Matrix, rows: some Sequence<Int>) { gather(targets, rows: rows, into: self.targets) }

    private func gather(_ m: Matrix, rows: some Sequence<Int>, into buffer: UnsafeMutablePointer<Double>) {
        let width = m.columns
        m.storage.withUnsafeBufferPointer { src in
            for (i, r) in rows.enumerated() {
                precondition(i < capacity, "Workspace: more rows than its capacity \(capacity)")
                for c in 0..<width { buffer[i * width + c] = src[r * width + c] }
            }
        }
    }
}

/// The Adam optimizer (Kingma & Ba 2015) with bias correction:
/// m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², θ ← θ − lr · (m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε).
/// β₁ᵗ and β₂ᵗ are running products (no `pow`), so updates are reproducible bit for bit.
public struct Adam: Sendable, Equatable {
    public var learningRate: Double
    public var beta1: Double
    public var beta2: Double
    public var epsilon: Double
    public let parameterCount: Int
    /// Number of updates applied so far.
    public private(set) var stepCount = 0
    private var firstMoment: [Double]
    private var secondMoment: [Double]
    private var beta1Power = 1.0
    private var beta2Power = 1.0

    public init(parameterCount: Int, learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999,
                epsilon: Double = 1e-8) {
        self.parameterCount = parameterCount
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        firstMoment = [Double](repeating: 0, count: parameterCount)
        secondMoment = [Double](repeating: 0, count: parameterCount)
    }

    /// One update of `parameters` along `gradient`.
    public mutating func update(_ parameters: inout [Double], gradient: [Double]) {
        precondition(parameters.count == parameterCount && gradient.count == parameterCount,
                     "Adam.update: expected \(parameterCount) parameters and gradients, got \(parameters.count) and \(gradient.count)")
        stepCount += 1
        beta1Power *= beta1
        beta2Power *= beta2
        let (b1, b2, eps) = (beta1, beta2, epsilon)
        let c1 = 1 - beta1Power, c2 = 1 - beta2Power, lr = learningRate
        parameters.withUnsafeMutableBufferPointer { p in
            gradient.withUnsafeBufferPointer { g in
                firstMoment.withUnsafeMutableBufferPointer { m in
                    secondMoment.withUnsafeMutableBufferPointer { v in
                        for i in 0..<p.count {
                            m[i] = b1 * m[i] + (1 - b1) * g[i]
                            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
                            p[i] -= lr * (m[i] / c1) / ((v[i] / c2).squareRoot() + eps)
                        }
                    }
                }
            }
        }
    }
}
