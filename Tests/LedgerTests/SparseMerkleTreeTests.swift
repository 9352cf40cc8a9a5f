import Testing
@testable import Ledger

@Suite struct SparseMerkleTreeTests {
    /// Reference root computed straight from the definition (specs/state-tree.md), with no sharing,
    /// batching or collapse bookkeeping: the incremental tree must always agree with it.
    static func referenceRoot(_ leaves: [ID: Digest], depth: Int = 0) -> Digest {
        if leaves.isEmpty { return .zero }
        if leaves.count == 1 { let (key, value) = leaves.first!; return TreeNode.leafHash(key: key, valueHash: value) }
        let left = leaves.filter { !$0.key.bit(depth) }, right = leaves.filter { $0.key.bit(depth) }
        return TreeNode.branchHash(left: referenceRoot(left, depth: depth + 1), right: referenceRoot(right, depth: depth + 1))
    }

    static func randomID(_ generator: inout SeededGenerator) -> ID { ID(bytes: generator.bytes(20))! }

    @Test func emptyTreeHasZeroRoot() throws {
        #expect(SparseMerkleTree().rootHash == .zero)
        #expect(try SparseMerkleTree().proof(for: testKey(1).publicKey.id).verify(root: .zero) == .absent)
    }

    @Test func singleLeafIsTheRoot() {
        let key = testKey(1).publicKey.id, value = SHA256.hash([1])
        #expect(SparseMerkleTree().updating([(key, value)]).rootHash == TreeNode.leafHash(key: key, valueHash: value))
    }

    @Test func incrementalUpdatesMatchTheReference() {
        var generator = SeededGenerator(seed: 42)
        var tree = SparseMerkleTree()
        var model: [ID: Digest] = [:]
        var keys: [ID] = []
        for round in 0..<60 {
            var batch: [SparseMerkleTree.Update] = []
            for _ in 0..<Int.random(in: 1...40, using: &generator) {
                let choice = Int.random(in: 0..<10, using: &generator)
                if choice < 2, let existing = keys.randomElement(using: &generator) {
                    batch.append((existing, nil))
                    model.removeValue(forKey: existing)
                } else {
                    let key = choice < 5 ? (keys.randomElement(using: &generator) ?? Self.randomID(&generator)) : Self.randomID(&generator)
                    let value = SHA256.hash(generator.bytes(8))
                    batch.append((key, value))
                    model[key] = value
                    keys.append(key)
                }
            }
            tree = tree.updating(batch)
            #expect(tree.rootHash == Self.referenceRoot(model), "round \(round)")
        }
        #expect(tree.leaves().count == model.count)
    }

    @Test func sharedPrefixesAndDeletionsCollapse() {
        // Two keys that agree on their first 100 bits force a chain of single-child branches.
        var a = [UInt8](repeating: 0xAB, count: 20), b = a
        a[19] = 0x00
        b[19] = 0x01
        let keyA = ID(bytes: a)!, keyB = ID(bytes: b)!
        let tree = SparseMerkleTree().updating([(keyA, SHA256.hash([1])), (keyB, SHA256.hash([2]))])
        #expect(tree.rootHash == Self.referenceRoot([keyA: SHA256.hash([1]), keyB: SHA256.hash([2])]))
        let proof = tree.proof(for: keyA)
        #expect(proof.depth == 160)
        #expect(proof.siblings.count == 1)  // only the last level's sibling is non-empty
        // Deleting one collapses the chain back to a single leaf at the root.
        let after = tree.updating([(keyB, nil)])
        #expect(after.rootHash == TreeNode.leafHash(key: keyA, valueHash: SHA256.hash([1])))
    }

    @Test func proofsProvePresenceAndAbsence() throws {
        var generator = SeededGenerator(seed: 9)
        var updates: [SparseMerkleTree.Update] = []
        for _ in 0..<500 { updates.append((Self.randomID(&generator), SHA256.hash(generator.bytes(4)))) }
        let tree = SparseMerkleTree().updating(updates)
        for (key, value) in updates.prefix(100) {
            #expect(try tree.proof(for: key).verify(root: tree.rootHash) == .present(valueHash: value!))
        }
        for _ in 0..<100 {
            let absent = Self.randomID(&generator)
            let proof = tree.proof(for: absent)
            #expect(try proof.verify(root: tree.rootHash) == .absent)
            #expect(try StateProof(encoded: proof.encoded) == proof)
        }
    }

    @Test func tamperedProofsFail() {
        var generator = SeededGenerator(seed: 10)
        let updates: [SparseMerkleTree.Update] = (0..<64).map { _ in (Self.randomID(&generator), SHA256.hash(generator.bytes(4))) }
        let tree = SparseMerkleTree().updating(updates)
        let (key, _) = updates[5]
        let proof = tree.proof(for: key)
        // Another value for the same key.
        let forged = StateProof(key: key, pathSiblings: Self.fullSiblings(proof), terminal: .leaf(key: key, valueHash: SHA256.hash([9])))
        #expect(throws: StateProof.Invalid.self) { try forged.verify(root: tree.rootHash) }
        // A flipped sibling.
        var siblings = Self.fullSiblings(proof)
        siblings[0] = SHA256.hash(siblings[0].bytes)
        let broken = StateProof(key: key, pathSiblings: siblings, terminal: proof.terminal)
        #expect(throws: StateProof.Invalid.self) { try broken.verify(root: tree.rootHash) }
        // Claiming absence with a leaf that is not on the key's path.
        let other = updates.first { $0.key.bit(0) != key.bit(0) }!
        let offPath = StateProof(key: key, pathSiblings: Self.fullSiblings(proof), terminal: .leaf(key: other.key, valueHash: other.valueHash!))
        #expect(throws: StateProof.Invalid.self) { try offPath.verify(root: tree.rootHash) }
        // A wrong root.
        #expect(throws: StateProof.Invalid.self) { try proof.verify(root: SHA256.hash([0])) }
    }

    static func fullSiblings(_ proof: StateProof) -> [Digest] {
        var remaining = proof.siblings[...]
        return (0..<proof.depth).map { level in
            proof.bitmap[level / 8] & (0x80 >> UInt8(level % 8)) != 0 ? remaining.removeFirst() : .zero
        }
    }

    @Test func oldVersionsAreUnchangedByNewOnes() {
        let a = testKey(1).publicKey.id, b = testKey(2).publicKey.id
        let v1 = SparseMerkleTree().updating([(a, SHA256.hash([1]))])
        let v2 = v1.updating([(b, SHA256.hash([2])), (a, nil)])
        #expect(v1.valueHash(for: a) == SHA256.hash([1]))
        #expect(v2.valueHash(for: a) == nil)
        #expect(v1.rootHash == TreeNode.leafHash(key: a, valueHash: SHA256.hash([1])))
    }
}

@Suite struct ParallelTreeTests {
    /// Large batches update the root's two halves on two threads; the tree must be the same, node for
    /// node, as the sequential algorithm's and as the reference definition's.
    @Test func parallelAndSequentialUpdatesAgree() {
        var generator = SeededGenerator(seed: 2048)
        var model: [ID: Digest] = [:]
        var initial: [SparseMerkleTree.Update] = []
        for _ in 0..<6_000 {
            let key = ID(bytes: generator.bytes(20))!, value = SHA256.hash(generator.bytes(4))
            initial.append((key, value))
            model[key] = value
        }
        let base = SparseMerkleTree().updating(initial)
        var batch: [SparseMerkleTree.Update] = []
        let existing = Array(model.keys)
        for index in 0..<5_000 {
            switch index % 3 {
            case 0: batch.append((existing[index], nil)); model.removeValue(forKey: existing[index])
            case 1: let value = SHA256.hash([UInt8(index & 0xff)]); batch.append((existing[index], value)); model[existing[index]] = value
            default: let key = ID(bytes: generator.bytes(20))!, value = SHA256.hash([1]); batch.append((key, value)); model[key] = value
            }
        }
        #expect(batch.count >= SparseMerkleTree.parallelBatchMin)
        var parallelNodes: [TreeNode] = [], sequentialNodes: [TreeNode] = []
        let parallel = base.updating(batch, created: &parallelNodes, parallel: true)
        let sequential = base.updating(batch, created: &sequentialNodes, parallel: false)
        #expect(parallel.rootHash == sequential.rootHash)
        #expect(parallel.rootHash == SparseMerkleTreeTests.referenceRoot(model))
        #expect(Set(parallelNodes.map(\.hash)) == Set(sequentialNodes.map(\.hash)))
    }
}
