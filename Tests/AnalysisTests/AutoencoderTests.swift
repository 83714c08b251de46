import BLASThreading
import Testing
@testable import Analysis

@Suite("Dense network and Adam")
struct AutoencoderTests {
    /// A reproducible matrix with entries from N(0, std²).
    func gaussian(rows: Int, columns: Int, seed: UInt64, std: Double = 1) -> Matrix {
        var rng = PCG64(seed: seed, stream: 7)
        return Matrix(rows: rows, columns: columns, storage: (0..<(rows * columns)).map { _ in rng.nextGaussian(std: std) })
    }

    @Test("Backpropagated gradient matches central finite differences on a tiny 3→4→2→4→3 net")
    func gradientMatchesFiniteDifferences() {
        var network = DenseNetwork(widths: [3, 4, 2, 4, 3], seed: 5)
        // Non-zero biases so their gradients are exercised away from the initial point.
        var rng = PCG64(seed: 9)
        for i in network.parameters.indices { network.parameters[i] += rng.nextGaussian(std: 0.3) }
        let inputs = gaussian(rows: 6, columns: 3, seed: 1)
        let targets = gaussian(rows: 6, columns: 3, seed: 2)
        let (loss, gradient) = network.lossAndGradient(inputs: inputs, targets: targets)
        #expect(abs(loss - network.meanSquaredError(inputs: inputs, targets: targets)) < 1e-14)
        let h = 1e-6
        var worst = 0.0
        for i in network.parameters.indices {
            var plus = network, minus = network
            plus.parameters[i] += h
            minus.parameters[i] -= h
            let numeric = (plus.meanSquaredError(inputs: inputs, targets: targets)
                - minus.meanSquaredError(inputs: inputs, targets: targets)) / (2 * h)
            worst = max(worst, abs(numeric - gradient[i]) / max(1e-3, abs(numeric) + abs(gradient[i])))
        }
        #expect(worst < 1e-6, "largest relative gradient error \(worst)")
        #expect(gradient.count == 3 * 4 + 4 + 4 * 2 + 2 + 2 * 4 + 4 + 4 * 3 + 3)
    }

    @Test("Parameter layout: weight and bias offsets tile the vector; Glorot scale; zero biases")
    func layout() {
        let network = DenseNetwork(widths: [50, 40, 2], seed: 3)
        #expect(network.weightOffset(0) == 0 && network.biasOffset(0) == 2000)
        #expect(network.weightOffset(1) == 2040 && network.biasOffset(1) == 2120)
        #expect(network.parameters.count == 2122)
        #expect(network.parameters[2000..<2040].allSatisfy { $0 == 0 })
        let w = Array(network.parameters[0..<2000])
        let variance = w.reduce(0) { $0 + $1 * $1 } / Double(w.count)
        #expect(abs(variance - 2.0 / 90) < 0.1 * 2.0 / 90)
        #expect(DenseNetwork(widths: [50, 40, 2], seed: 3) == network)
        #expect(DenseNetwork(widths: [50, 40, 2], seed: 4) != network)
    }

    /// Data on a 2-D nonlinear manifold in 8 dimensions: an 8→16→2→16→8 autoencoder can learn it.
    func manifold(rows: Int) -> Matrix {
        var rng = PCG64(seed: 11)
        let mix = gaussian(rows: 4, columns: 8, seed: 12, std: 0.5)
        var storage: [Double] = []
        for _ in 0..<rows {
            let u = 2 * rng.nextDouble() - 1, v = 2 * rng.nextDouble() - 1
            let features = [u, v, u * v, u * u - v]
            for c in 0..<8 { storage.append((0..<4).reduce(0) { $0 + features[$1] * mix[$1, c] }) }
        }
        return Matrix(rows: rows, columns: 8, storage: storage)
    }

    @Test("Adam training lowers the reconstruction loss and repeats bit for bit for the same seeds")
    func trainingDecreasesLossDeterministically() {
        let data = manifold(rows: 400)
        func trained() -> (DenseNetwork, [Double]) {
            var network = DenseNetwork(widths: [8, 16, 2, 16, 8], seed: 1)
            var adam = Adam(parameterCount: network.parameters.count, learningRate: 1e-2)
            var rng = PCG64(seed: 2)
            let losses = BLASThreads.withSingleThread {
                network.train(inputs: data, targets: data, steps: 600, batchSize: 32, optimizer: &adam, using: &rng)
            }
            return (network, losses)
        }
        let initial = DenseNetwork(widths: [8, 16, 2, 16, 8], seed: 1).meanSquaredError(inputs: data, targets: data)
        let (network, losses) = trained()
        let final = network.meanSquaredError(inputs: data, targets: data)
        #expect(losses.count == 600)
        #expect(final < 0.2 * initial, "MSE \(initial) → \(final)")
        let early = losses.prefix(50).reduce(0, +) / 50, late = losses.suffix(50).reduce(0, +) / 50
        #expect(late < 0.3 * early)
        let (again, lossesAgain) = trained()
        #expect(again.parameters == network.parameters)
        #expect(lossesAgain == losses)
    }

    /// Bias-corrected moments make the first step lr·g/(|g| + ε): about lr against the gradient's sign.
    @Test("Adam's first step moves each parameter by about the learning rate against the gradient's sign")
    func adamFirstStep() {
        var adam = Adam(parameterCount: 3, learningRate: 0.1)
        var parameters = [1.0, 2.0, 3.0]
        adam.update(&parameters, gradient: [0.5, -4.0, 0])
        #expect(abs(parameters[0] - 0.9) < 1e-7 && abs(parameters[1] - 2.1) < 1e-7 && parameters[2] == 3)
        #expect(adam.stepCount == 1)
    }
}
