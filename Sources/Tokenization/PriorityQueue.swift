/// A binary heap; `isHigherPriority(a, b)` says `a` must come out before `b`.
struct PriorityQueue<Element> {
    private var storage: [Element] = []
    private let isHigherPriority: (Element, Element) -> Bool

    init(isHigherPriority: @escaping (Element, Element) -> Bool) {
        self.isHigherPriority = isHigherPriority
    }

    var isEmpty: Bool { storage.isEmpty }

    mutating func removeAll() { storage.removeAll(keepingCapacity: true) }

    mutating func push(_ element: Element) {
        storage.append(element)
        var child = storage.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard isHigherPriority(storage[child], storage[parent]) else { break }
            storage.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Element? {
        guard !storage.isEmpty else { return nil }
        storage.swapAt(0, storage.count - 1)
        let top = storage.removeLast()
        var parent = 0
        let count = storage.count
        while true {
            let left = 2 * parent + 1
            guard left < count else { break }
            let right = left + 1
            var best = left
            if right < count && isHigherPriority(storage[right], storage[left]) { best = right }
            guard isHigherPriority(storage[best], storage[parent]) else { break }
            storage.swapAt(best, parent)
            parent = best
        }
        return top
    }
}
