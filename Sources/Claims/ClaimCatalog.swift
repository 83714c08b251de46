/// Every claim this build ships, in the order of the spec.
public enum ClaimCatalog {
    public static let all: [any Claim] = [
        TD1UnitCorrelation(),
        LoT1LowRankTrajectories(),
        LoT3GaussianResiduals(),
    ]

    public static var registry: ClaimRegistry { ClaimRegistry(all) }
}
