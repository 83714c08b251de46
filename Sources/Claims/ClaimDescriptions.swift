/// What a claim measures, in prose, for `rbench explain` and reports. How it is judged is not
/// prose: it is the claim's typed ``Claim/criteria``.
public struct ClaimDescription: Sendable, Equatable {
    /// What the check measures, in a few sentences.
    public var summary: String
    /// What the controls are and what they must do.
    public var controls: String
    /// Numbers the paper reported and the ones the SmolLM2 pilot measured.
    public var reference: String
}

/// Descriptions of the spec's claims by id (summarised from `shared/claims/README.md`).
///
/// Kept apart from the claim types so claims being written elsewhere can gain a description
/// without touching their files; a claim with no entry simply has none.
public enum ClaimDescriptions {
    /// The description of claim `id`, if one is written.
    public static func description(of id: String) -> ClaimDescription? { all[id] }

    public static let all: [String: ClaimDescription] = [
        "TD-1": ClaimDescription(
            summary: """
            Takes the last-token residual state of WikiText paragraphs at every layer and, for each pair of \
            consecutive states and each unit, correlates the unit with itself across samples (Pearson). med_r(k) is \
            the median over units for transition k, frac50(k) the share of units above 0.5, and R the median of \
            med_r over block transitions after the first. The same is done on the sub-layer sequence to compare \
            within-layer (attention → MLP) with across-layer correlation.
            """,
            controls: """
            shuffle pairs sample n with another sample at the next layer; cross-unit pairs unit u with a different \
            unit; rotated-basis looks at the next layer through a random rotation. All three must be refuted. \
            random-init is a positive comparison, not a control: h_{l+1} = h_l + f(h_l) with a small f makes \
            continuity almost automatic, so it passes too and is recorded as informational.
            """,
            reference: """
            Paper (Llama 3.1 8B, Fig. 1C): high unit correlation between consecutive layers; values not published. \
            Pilot on SmolLM2: med_r 0.08 for h₀→h₁, then 0.80–0.92; R = 0.84; frac50 0.98–1.00; within 0.958 vs \
            across 0.851; nulls 0.03 (shuffle) and 0.05 (cross-unit); random-init R = 0.96.
            """),
        "TD-2": ClaimDescription(
            summary: """
            Measures how dense the residual state is at each layer with the Hoyer density ρ = (‖x‖₁/‖x‖₂)²/D, \
            averaged over samples: over all units, without the five massive-activation units, and as the share \
            of units above the state's RMS. The trend is the Spearman correlation of ρ (without massive units) \
            with depth and Δρ, the last third's mean minus the first third's.
            """,
            controls: "random-init must be refuted: its density stays flat (about 0.64, the Gaussian value).",
            reference: """
            Paper (Fig. 1B and the author's thread): sparse early, dense late; no numbers published. Pilot on \
            SmolLM2: ρ without massive units 0.41 → 0.59 from early to late layers, while ρ over all units stays \
            flat at 0.27–0.33 (massive units dominate it); random-init flat at 0.64.
            """),
        "TD-3": ClaimDescription(
            summary: """
            Measures how far the residual stream moves per layer: the velocity ‖h_{l+1} − h_l‖, the relative \
            velocity, the norm and the cosine between consecutive states. The acceleration ratio A is the mean \
            velocity over the last third of the layers divided by that over the middle third.
            """,
            controls: "random-init must be refuted on A ≥ 2 (its velocity grows steadily, without a late surge).",
            reference: """
            Paper (author's thread): the stream accelerates and consecutive states align more with depth. Pilot on \
            SmolLM2: A ≈ 4.6, Spearman(v) = 0.86, norm 50 → 932; the cosine is flat near 0.96 (Spearman −0.15), \
            so the alignment part does not reproduce; random-init A ≈ 1.01 with Spearman(v) = 0.92.
            """),
        "TD-7": ClaimDescription(
            summary: """
            Pushes the last position's state off course at one block input (a shift in the top-two PCA plane, a \
            teleport within that plane, or a random direction of the same size) and follows the difference to the \
            final state. The kept fraction κ = ⟨Δ_L, δ⟩/‖δ‖² is 1 when the push is carried along unchanged and \
            below 1 when the model counteracts it.
            """,
            controls: "random-init must keep the push: κ within [0.85, 1.2] at every injection layer.",
            reference: """
            Paper (third-party notes): teleported states return toward the trajectory in early layers. Pilot on \
            SmolLM2 (injection at blocks 0/7/14/22/29, shift): κ = −0.48 / 0.10 / 0.39 / 0.74 / 1.21; random-init \
            1.12 / 1.02 / 0.99 / 0.99 / 1.00; amplification 24 → 1.7, so the model transforms the push rather \
            than erasing it.
            """),
        "LoT-1": ClaimDescription(
            summary: """
            Stacks the last-token states of many Walden chunks at each layer and takes the uncentered SVD. A fast \
            decay of singular values means the trajectories lie on a low-dimensional manifold; it is summarised \
            per layer by the participation ratio (Σσ²)²/Σσ⁴ and k90, the number of directions holding 90 % of \
            the energy.
            """,
            controls: "random-init must fail both (participation ratio ≥ 25 and k90 ≥ 0.3·D).",
            reference: """
            Paper (GPT-2 medium, Fig. 2a–b): fast singular-value decay, clusters stretching with depth. Pilot on \
            SmolLM2: participation ratio 14.8 at t = 1 and 2.1–3.8 from t = 5; k90 123 at t = 1, then 42–112; \
            random-init participation ratio 40–58 and k90 178–247.
            """),
        "LoT-2": ClaimDescription(
            summary: """
            Projects the last-position state onto its first K singular directions and measures how much the next \
            token distribution changes (KL to the untruncated output), relative to the KL between unrelated \
            consecutive chunks. Variant A truncates after every block, variant B only the final state.
            """,
            controls: "random-init is recorded only: its relative curve looks like the trained one.",
            reference: """
            Paper (GPT-2 medium, Fig. 2c): most of the output is recovered at K ≈ 256 (a quarter of D). Pilot on \
            SmolLM2: baseline median 6.11 nats; variant B ratio 0.29 / 0.083 / 0.023 at K = 16 / 128 / 256, so \
            K₁₀ = 128; variant A ratio 0.064 at K = 256.
            """),
        "LoT-3": ClaimDescription(
            summary: """
            Predicts the state τ layers ahead with a rotate-and-stretch map built from the aligned singular bases, \
            and studies the residuals: their mean relative to their spread, their kurtosis, and whether their log \
            variance grows linearly in t+τ (ln α + λ·(t+τ)) and depends on t+τ alone.
            """,
            controls: "random-init must fail the fit (λ < 0.1 or R² < 0.8); kurtosis is not used to reject it.",
            reference: """
            Paper (GPT-2 medium): α ≈ 0.64, λ ≈ 0.18; Llama 2 7B λ ≈ 0.27. Pilot on SmolLM2: λ = 0.185 (R² = 0.89) \
            over all pairs, 0.181 (R² = 0.90) over interior pairs; random-init λ = 0.072, R² = 0.70.
            """),
        "TD-4": ClaimDescription(
            summary: """
            Estimates the mutual information between a unit's values at consecutive layers (last-token states of \
            WikiText paragraphs) with a leave-one-out Gaussian kernel density (standardized values, Scott \
            bandwidths), averaged over 48 seeded random units, per block transition in nats. A Gaussian-copula \
            (rank) variant and a shuffled-pairing null are recorded per transition too.
            """,
            controls: """
            shuffle pairs each sample with another sample's next-layer value (MI falls to the leave-one-out bias, \
            about −0.02 nats). random-init is recorded but is no control: random weights show the same shape. \
            Both are informational.
            """,
            reference: """
            Paper (author's thread): MI drops in early layers, then climbs. Pilot on SmolLM2: 0.03 for h₀→h₁, then \
            0.54 rising to 0.77, 0.42 at the last transition; random-init 0.00, then 0.13 → 1.04; shuffle −0.02.
            """),
        "TD-5": ClaimDescription(
            summary: """
            Follows each unit along the sub-layer sequence a₁, m₁, …, a_L, m_L, h_L (mean over samples and per \
            sample) in the plane of its standardized value and its standardized layer-to-layer difference, and \
            counts the revolutions of that phase point and the slope of its log-radius (outward spiral), on raw \
            and norm-normalized states. Nulls: the layer-permuted series, white noise and a Gaussian random walk.
            """,
            controls: """
            The surrogate series are the nulls. random-init is recorded for comparison only: its units wind \
            like the trained ones.
            """,
            reference: """
            Paper (author's thread): units rotate about 10 times over 64 states, some spiralling outward. Pilot on \
            SmolLM2: n̄ = 1.84 (mean trajectory), 1.97 (per sample); random-init 2.10 / 1.98; permuted 7.4, white \
            noise 8.05, random walk 2.03; raw slope +0.025 (100 % of units), normalized +0.002 (54 %).
            """),
        "TD-6": ClaimDescription(
            summary: """
            Measures the full-space turning angle between consecutive steps Δ_l = h_{l+1} − h_l of each \
            last-token trajectory, averaged over samples, and its mean over the thirds of the depth. The \
            straightening score is S = Φ_mid − Φ_late. The same angles in a pooled 2- and 3-PC projection of \
            unit-norm states are recorded.
            """,
            controls: "random-init must be refuted: its random increments stay within 3° of orthogonal at every layer.",
            reference: """
            Paper (author's thread): trajectories curve, then straighten (PCA/CAE space). Pilot on SmolLM2: \
            Φ_early ≈ 87° (72° at the first two steps), Φ_mid ≈ 95°, Φ_late ≈ 79°, S ≈ 16°; random-init 90 ± 1°.
            """),
        "TD-lag": ClaimDescription(
            summary: """
            Extends TD-1 to layers k = 1…10 apart: med_r(l, l+k) is the median over units of the correlation of a \
            unit with itself k layers later (last-token WikiText states, l ≥ 1), summarised per lag over all start \
            layers and per third of the depth, with a correlation length from ln med_r(k) ≈ a − k/τ.
            """,
            controls: """
            shuffle pairs each sample with another sample k layers later (correlation ≈ 0 at every lag). \
            random-init is a positive comparison: continuity is partly architectural. Both informational.
            """,
            reference: "Spec §4 extra; pilot values not reported. TD-1's lag curve is the same median over start layers."),
        "TD-norm": ClaimDescription(
            summary: """
            The mean last-token residual norm per layer and its geometric growth rate ln(‖h_{l+1}‖/‖h_l‖), \
            averaged per third of the depth, with exponential and power-law fits of the norm over the last third.
            """,
            controls: "random-init is recorded for comparison (a random residual stack grows roughly like √l).",
            reference: "Spec §4 extra; pilot: the norm grows from 50 (h₁) to 932 (h₃₀), roughly exponentially after layer 20."),
        "SR-1": ClaimDescription(
            summary: """
            Writes X(α) = (1−α)A + αB into the residual after block 1 at the last position of a 10-token Walden \
            window, where A and B are that state for two consecutive (unrelated) windows, and re-runs only that \
            position against the window's cached prefix. d(α) is the distance of the final-norm output from its \
            α = 0 value, d̂ = d/d(1), and sharpness the steepest slope of d̂ times S−1 (1 for a straight line). \
            Pre-norm and KL(p₀‖p_α) readouts are recorded as variants; the mean d̂ curve is recorded per α index.
            """,
            controls: "random-init runs the same criteria on random weights; its curves are straight, so it must be refuted.",
            reference: """
            Paper: random init near-linear, curves sharpen with training (medians not available). Pilot on SmolLM2 \
            (121 windows, S = 21): median 3.43 (2.61–4.87), d̂ 0.15/0.59/0.97 at α = .25/.5/.75; random-init 1.07 \
            (1.05–1.09); KL readout 5.24 (random-init 1.67).
            """),
        "SR-2": ClaimDescription(
            summary: """
            Runs SR-1's median sharpness on an ordered list of models (random-init as 0 training tokens, the suite \
            model, optionally another GGUF such as Gemma-3-270M with its own tokenizer and BOS) and records whether \
            the medians are non-decreasing along the order.
            """,
            controls: """
            None: the models are not checkpoints of one family, so the order is confounded by architecture and \
            tokenizer, and the paper flags Gemma as an exception.
            """,
            reference: "Pilot: SmolLM2-135M 3.43 < Gemma-3-270M 3.92 (BOS + 10 tokens); random-init 1.07 and 1.49."),
        "SR-3": ClaimDescription(
            summary: """
            From a larger seeded pool of 10-token Walden windows, pairs windows ending in the same token \
            ("similar", round-robin over last tokens) and consecutive windows with different last tokens and \
            different top-1 predictions ("dissimilar"), and compares SR-1's sharpness between the two groups, \
            with the shares of pairs below 1.2 and above 10.
            """,
            controls: """
            shuffled-labels permutes the similar/dissimilar labels once before the statistics, so the two groups \
            are random halves of the same pairs; the permutation test must fail (refuted). Random-init is not \
            used: its curves are all near-linear, which would be uninformative rather than a failure.
            """,
            reference: "Paper (Qwen2-0.5B, App. G): pairs below 1.2 have near-identical endings, pairs above 10 differ."),
        "SR-slice": ClaimDescription(
            summary: """
            Slices the residual after block 1 through three anchors (consecutive windows): X = A + α(B−A) + β(C−P), \
            α, β ∈ [−0.25, 1.25] on a G×G grid, runs each point in each anchor's context and labels it by the anchor \
            whose clean output is nearest. Records the boundary density (share of adjacent grid points with \
            different labels), the plateau share (points within 0.2 of an anchor's scale of its output) and the \
            first triplet's label grid, for the trained model and random-init.
            """,
            controls: "Random-init is computed inside the same check as the contrast (a gradient, not plateaus).",
            reference: "Paper Fig. 1: flat regions with sharp boundaries for trained models. Not piloted."),
        "SR-gates": ClaimDescription(
            summary: """
            Along SR-1's interpolations, counts the gate_proj units of the last MLP whose pre-activation sign \
            differs between α = 0 and α = 1, and between α = 0 and a small α inside the region (with its d̂), for \
            the trained model and random-init.
            """,
            controls: "Random-init is computed inside the same check for comparison.",
            reference: "Paper App. F: hundreds to thousands of flips, even within a single region. Not piloted."),
        "TD-CAE": ClaimDescription(
            summary: """
            Takes the last-token states of WikiText paragraphs in TD's sub-layer sequence (§0.1: pre-attention \
            a_l = h_{l−1} and pre-MLP m_l for l = 1…L, then h_L; 2L + 1 states), scales each to unit RMS, pools them \
            and trains one autoencoder D→128→2→128→D (tanh, linear output; Adam lr 1e-3, batch 128, seeded) until \
            the mean loss of a 2,000-step window improves on the window before by less than 0.5 %, with a step \
            cap. Primary metric: reconstruction error per state, MSE on the unit-RMS states (1 − MSE is an uncentred \
            R²), averaged over the thirds of layers 1…L by depth (m_l at l − ½, §0.7); the embedding h₀ is reported \
            on its own. Recorded beside it: the within-state centred R², each state's own PCA-2 reconstruction \
            (the linear bound of a 2-D code of that state), the block-state variant h₀…h_L with its own network, \
            the early third without layer 1, the steps, the final loss and whether the loss plateaued. \
            Verdict: MSE_early − max(MSE_middle, MSE_late) ≥ 0.05 on the sub-layer states, judged on its bootstrap \
            interval, and only when the training plateaued: a run that hit the cap is inconclusive and says so. \
            Known sensitivities: the verdict flips with the metric (an independent check on block states found \
            the early third worst under MSE, only because of layers 0 and 1, and the late third worst under \
            centred R²), and with training length (2,000 steps leave the loss at 0.50, 20,000 reach 0.39). The \
            converged run costs tens of thousands of steps and lives in paper-extended; the smoke-size suites run \
            a short variant (TD-CAE@short, 2,000 steps) that is recorded and never gated.
            """,
            controls: """
            layer-shuffle reuses the autoencoder but permutes the state labels across the pooled rows, so depth \
            differences vanish; it must be refuted. random-init is recorded as informational, not a control: \
            untrained weights already reconstruct early layers worse.
            """,
            reference: """
            Paper (author's thread only): a 2-D CAE reconstructs early layers worse; no numbers. Independent check \
            on SmolLM2 block states (400 × 64): centred R² 0.009 / 0.035 / 0.002 (early/middle/late) after 2,000 \
            steps, early 0.24 after 20,000; per-layer PCA-2 bound 0.16 / 0.14 / 0.13; MSE 0.577 / 0.459 / 0.441 \
            (early worst, from h₀ and h₁ only).
            """),
        "LoT-4": ClaimDescription(
            summary: """
            Cuts the Walden trajectories into 10 disjoint evaluation sets; each is extrapolated from t to t+τ with \
            the rotate-and-stretch map of bases fitted on every other trajectory (the largest basis set the corpus \
            allows; N_B is recorded), and a linear SVM (squared hinge, λ = 1e-2 with the bias regularized as a \
            constant feature, features standardized on the training fold, dual coordinate descent to a \
            projected-gradient spread < 1e-3, the largest relative duality gap recorded) tells true from \
            extrapolated states under 5-fold CV grouped by trajectory, at t ≈ L/3 and L/2 for τ = 1 and 10, with a \
            label-permutation null. Known bias: even where the model is exactly true the protocol scores above 0.5, \
            because the finite basis set's map is not the generating one (an independent check: 0.54–0.62 at 692 \
            basis trajectories, 0.50–0.55 at 2,574). So the yardstick is the model-true control: the target layer \
            replaced by the map fitted on all trajectories applied to x(t), plus Gaussian noise with the real \
            residuals' per-coordinate variances, put through the identical splits, bases and classifier. \
            Verdict: the paired excess accuracy(real) − accuracy(model-true) at τ = 1 lies within ±0.06 (the \
            paper band's half-width) on its interval over the 10 splits, and accuracy at τ = 10 ≥ τ = 1 − 0.02, at \
            both layers. The paper's band [0.44, 0.56] is recorded beside it (paper_band_tau1_*), never gated. A \
            solver that misses its tolerance withholds the verdict.
            """,
            controls: """
            identity-extrapolation (x̃ = x(t), no transport) must exceed the model-true control by far more than \
            0.06, showing the classifier can reject a wrong model; in-sample (bases fitted on the classified \
            trajectories, equal second moments) must fall far below it (anti-learning).
            """,
            reference: """
            Reported (v2/v3, unverified): about 50–51 % at τ = 1 and 60 % at τ = 10. Pilot on SmolLM2: 0.50–0.55 \
            for both τ against a null of 0.49–0.51, with the evaluated set partly inside the basis set; in-sample \
            0.27–0.40. Independent check on the real states: 0.57–0.65 from 692 to 2,574 basis trajectories, so the \
            accuracy does not fall toward the model-true level as the basis set grows.
            """),
        "LoT-5": ClaimDescription(
            summary: """
            Computes the LoT-3 residual variance A2 and kurtosis A3 at τ = 1 with the pre-norm states h₁…h_L and in \
            HF convention (final-norm output as the last point), and compares the last step with the interior \
            exponential fit (Δ_last), and the early-layer kurtosis with the middle third.
            """,
            controls: "random-init is recorded only: the spec states no expected behaviour for it.",
            reference: """
            Paper: Mistral 7B and Llama 3.2 show a misaligned last layer; all models deviate in the first layers. \
            Pilot on SmolLM2: pre-norm A2 6.69 at 29→30 vs 5.58 at 28→29; HF convention A2 1.03 (−5.7 nats); \
            early A3 1.1–1.3 vs about 0.3 in the middle.
            """),
        "LoT-6": ClaimDescription(
            summary: """
            (a) Classifies the last-token state of Walden windows against uniformly random token sequences with a \
            linear SVM at every layer. (b) Re-initialises blocks 16–30 with random-init weights and measures the mean \
            velocity after block 15 against the trained model and the last-quarter LoT-3 variance fit; straightness \
            in full space and projected on the leading directions is recorded.
            """,
            controls: "arbitrary-labels (first vs second half of the language windows) must stay near chance and be refuted.",
            reference: """
            Paper (GPT-2): gibberish separable at every layer (perceptron, 14,000 trajectories); the ablated model \
            stops transporting after t = 12 and only diffuses. Not piloted on SmolLM2.
            """),
        "LoT-angles": ClaimDescription(
            summary: """
            Angles arccos|ψ_i(t₁)·ψ_i(t₂)| between the aligned uncentered singular directions i ≤ 4 of the Walden \
            trajectories at different layers: per adjacent pair, per lag, and first against last layer.
            """,
            controls: "random-init is recorded: it shows the same pattern (22.7° adjacent, 82° distant), so the check cannot separate trained from untrained.",
            reference: """
            Paper (GPT-2 medium, Fig. 2a): small rotations per layer, the whole basis needed from t = 1 to 24. Not piloted. \
            SmolLM2 (N = 1000): 16.7° adjacent, 81° at lags ≥ 15.
            """),
    ]
}

extension Claim {
    /// A few sentences on what the claim measures, when a description is written.
    public var summary: String? { ClaimDescriptions.description(of: id)?.summary }
}
