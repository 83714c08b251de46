/// Every claim this build ships, in the order of the spec.
public enum ClaimCatalog {
    public static let all: [any Claim] = [
        TD1UnitCorrelation(),
        TD2Densification(),
        TD3Acceleration(),
        TD7PerturbationRecovery(),
        LoT1LowRankTrajectories(),
        LoT2Truncation(),
        LoT3GaussianResiduals(),
        TD4MutualInformation(),
        TD5Rotations(),
        TD6TurningAngle(),
        TDUnitCorrelationLag(),
        TDNormGrowth(),
        SR1StableRegions(),
        SR2SharpeningOrder(),
        SR3SemanticRegions(),
        SR2DSlice(),
        SRGateFlips(),
        TDCompressingAutoencoder(),
        LoT4ExtrapolationClassifier(),
        LoT5EdgeLayerAnomalies(),
        LoT6NullInputs(),
        LoTSingularVectorAngles(),
    ]

    public static var registry: ClaimRegistry { ClaimRegistry(all) }
}
