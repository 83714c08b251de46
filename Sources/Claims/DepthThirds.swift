/// Splits a run of layer indices into thirds of the depth (the first third gets the
/// remainder last: 30 layers → 10 / 10 / 10, 29 → 9 / 10 / 10).
func depthThirds(_ indices: [Int]) -> (early: [Int], middle: [Int], late: [Int]) {
    let n = indices.count
    let third = n / 3
    let lateStart = n - third
    let middleStart = lateStart - third
    return (Array(indices[..<middleStart]), Array(indices[middleStart..<lateStart]), Array(indices[lateStart...]))
}

func mean(_ values: [Double]) -> Double { values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count) }
