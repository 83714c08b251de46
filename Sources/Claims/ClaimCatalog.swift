/// Every claim this build ships, in the order of the spec: Transformer Dynamics (with its extras),
/// Lines of Thought, stable regions.
public enum ClaimCatalog {
    public static let all: [any Claim] = [
        TD1UnitCorrelation(),
        TD2Densification(),
        TD3Acceleration(),
        TD4MutualInformation(),
        TD5Rotations(),
        TD6TurningAngle(),
        TD7PerturbationRecovery(),
        TDUnitCorrelationLag(),
        TDNormGrowth(),
        TDCompressingAutoencoder(),
        LoT1LowRankTrajectories(),
        LoT2Truncation(),
        LoT3GaussianResiduals(),
        LoT4ExtrapolationClassifier(),
        LoT5EdgeLayerAnomalies(),
        LoT6NullInputs(),
        LoTSingularVectorAngles(),
        SR1StableRegions(),
        SR2SharpeningOrder(),
        SR3SemanticRegions(),
        SR2DSlice(),
        SRGateFlips(),
    ]

    public static var registry: ClaimRegistry { ClaimRegistry(all) }
}
