import CLibgit2
import Foundation

/// The source revision a run was built from, read from the git checkout with libgit2.
public struct RevisionInfo: Codable, Sendable, Equatable {
    /// False when the run did not happen inside a git checkout; every other field is then empty.
    public var inRepository: Bool
    /// The HEAD commit, nil outside a repository or before the first commit.
    public var commitSHA: String?
    /// The checked-out branch, nil on a detached HEAD.
    public var branch: String?
    /// Tracked files differ from HEAD (index or work tree).
    public var isDirty: Bool
    /// SHA-256 of the patch from HEAD to the work tree, so a dirty run is never keyed as its clean commit.
    public var dirtyDiffSHA256: String?
    /// `git describe --tags --always --dirty`.
    public var describe: String?
    /// Committer time of HEAD, seconds since 1970.
    public var commitTime: Int64?

    public init(inRepository: Bool, commitSHA: String? = nil, branch: String? = nil, isDirty: Bool = false,
                dirtyDiffSHA256: String? = nil, describe: String? = nil, commitTime: Int64? = nil) {
        self.inRepository = inRepository
        self.commitSHA = commitSHA
        self.branch = branch
        self.isDirty = isDirty
        self.dirtyDiffSHA256 = dirtyDiffSHA256
        self.describe = describe
        self.commitTime = commitTime
    }

    /// What is recorded when no repository encloses the working directory.
    public static let outsideRepository = RevisionInfo(inRepository: false)

    /// Identifies the revision row: a dirty tree gets its own key next to its commit.
    var storageKey: String { "\(commitSHA ?? "none"):\(dirtyDiffSHA256 ?? "clean")" }

    /// Reads the revision of the repository enclosing `directory`; outside a repository returns ``outsideRepository``.
    public static func read(at directory: URL) throws(RecordingError) -> RevisionInfo {
        GitLibrary.initialize()
        var repository: OpaquePointer?
        let openStatus = git_repository_open_ext(&repository, directory.path, 0, nil)
        if openStatus == GIT_ENOTFOUND.rawValue { return .outsideRepository }
        guard openStatus == 0, let repository else {
            throw .git(path: directory.path, message: "cannot open repository: \(GitLibrary.lastError())")
        }
        defer { git_repository_free(repository) }

        var info = RevisionInfo(inRepository: true)
        var head: OpaquePointer?
        let headStatus = git_repository_head(&head, repository)
        if headStatus == GIT_EUNBORNBRANCH.rawValue || headStatus == GIT_ENOTFOUND.rawValue {
            return info // a repository with no commit yet
        }
        guard headStatus == 0, let head else {
            throw .git(path: directory.path, message: "cannot read HEAD: \(GitLibrary.lastError())")
        }
        defer { git_reference_free(head) }
        if git_repository_head_detached(repository) == 0, let shorthand = git_reference_shorthand(head) {
            info.branch = String(cString: shorthand)
        }

        var commitObject: OpaquePointer?
        guard git_reference_peel(&commitObject, head, GIT_OBJECT_COMMIT) == 0, let commitObject else {
            throw .git(path: directory.path, message: "HEAD is not a commit: \(GitLibrary.lastError())")
        }
        defer { git_object_free(commitObject) }
        if let oid = git_object_id(commitObject) { info.commitSHA = GitLibrary.hex(oid) }
        info.commitTime = Int64(git_commit_time(commitObject))

        var tree: OpaquePointer?
        guard git_commit_tree(&tree, commitObject) == 0, let tree else {
            throw .git(path: directory.path, message: "cannot read HEAD tree: \(GitLibrary.lastError())")
        }
        defer { git_tree_free(tree) }
        let patch = try dirtyPatch(repository: repository, tree: tree, path: directory.path)
        if !patch.isEmpty {
            info.isDirty = true
            info.dirtyDiffSHA256 = SHA256.hex(patch)
        }
        info.describe = describe(repository: repository)
        return info
    }

    /// The patch text from HEAD's tree to the work tree through the index (tracked files only).
    private static func dirtyPatch(repository: OpaquePointer, tree: OpaquePointer, path: String) throws(RecordingError) -> [UInt8] {
        var options = git_diff_options()
        git_diff_options_init(&options, UInt32(GIT_DIFF_OPTIONS_VERSION))
        var diff: OpaquePointer?
        guard git_diff_tree_to_workdir_with_index(&diff, repository, tree, &options) == 0, let diff else {
            throw .git(path: path, message: "cannot diff the work tree: \(GitLibrary.lastError())")
        }
        defer { git_diff_free(diff) }
        if git_diff_num_deltas(diff) == 0 { return [] }
        var buffer = git_buf()
        defer { git_buf_dispose(&buffer) }
        guard git_diff_to_buf(&buffer, diff, GIT_DIFF_FORMAT_PATCH) == 0, let pointer = buffer.ptr else {
            throw .git(path: path, message: "cannot format the work-tree diff: \(GitLibrary.lastError())")
        }
        let bytes = UnsafeRawBufferPointer(start: pointer, count: buffer.size)
        // A mode-only or empty-content change still makes the tree dirty.
        return bytes.isEmpty ? Array("deltas:\(git_diff_num_deltas(diff))".utf8) : Array(bytes)
    }

    /// `describe --tags --always --dirty`; nil when libgit2 cannot describe.
    private static func describe(repository: OpaquePointer) -> String? {
        var options = git_describe_options()
        git_describe_options_init(&options, UInt32(GIT_DESCRIBE_OPTIONS_VERSION))
        options.describe_strategy = GIT_DESCRIBE_TAGS.rawValue
        options.show_commit_oid_as_fallback = 1
        var result: OpaquePointer?
        guard git_describe_workdir(&result, repository, &options) == 0, let result else { return nil }
        defer { git_describe_result_free(result) }
        var format = git_describe_format_options()
        git_describe_format_options_init(&format, UInt32(GIT_DESCRIBE_FORMAT_OPTIONS_VERSION))
        var buffer = git_buf()
        defer { git_buf_dispose(&buffer) }
        let status = "-dirty".withCString { suffix -> Int32 in
            format.dirty_suffix = suffix
            return git_describe_format(&buffer, result, &format)
        }
        guard status == 0, let pointer = buffer.ptr else { return nil }
        return String(cString: pointer)
    }
}

/// One-time libgit2 setup and small helpers.
enum GitLibrary {
    private static let initialized: Bool = {
        git_libgit2_init()
        // Worktrees and CI checkouts are often owned by another user; reading them is safe here.
        _ = rbench_git_disable_owner_validation()
        return true
    }()

    static func initialize() { _ = initialized }

    static func lastError() -> String {
        guard let error = git_error_last(), let message = error.pointee.message else { return "unknown libgit2 error" }
        return String(cString: message)
    }

    static func hex(_ oid: UnsafePointer<git_oid>) -> String {
        withUnsafeBytes(of: oid.pointee.id) { bytes in
            bytes.map { byte in
                let digits = String(byte, radix: 16)
                return digits.count == 1 ? "0" + digits : digits
            }.joined()
        }
    }
}
