import Foundation

/// Writes to stdout and stderr that neither kill nor crash the process when the reader is gone,
/// as in `rbench run … 2>&1 | head -1`: the run must still complete and be recorded.
///
/// `FileHandle.write(_:)` traps on a failed write on Linux, and SIGPIPE's default action ends
/// the process; so SIGPIPE is ignored process-wide and a write that fails is dropped.
public enum StandardStreams {
    /// Call first thing in `main`. Ignores SIGPIPE for the whole process (a write to a pipe whose
    /// reader is gone then fails with EPIPE), and puts `/dev/null` on a standard descriptor that
    /// was closed (`2>&-`), so no file opened later takes its number and receives progress lines.
    public static func tolerateClosedStreams() {
        signal(SIGPIPE, SIG_IGN)
        for descriptor in [STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO] where fcntl(descriptor, F_GETFD) == -1 {
            // open returns the lowest free descriptor, which is this one.
            _ = open("/dev/null", O_RDWR)
        }
    }

    /// Writes `text` to stderr; nothing happens if stderr is closed.
    @Sendable public static func writeError(_ text: String) {
        write(Data(text.utf8), to: STDERR_FILENO)
    }

    /// Writes `data` to stdout (unbuffered, like `FileHandle`); nothing happens if stdout is closed.
    public static func writeOutput(_ data: Data) {
        write(data, to: STDOUT_FILENO)
    }

    private static func write(_ data: Data, to descriptor: Int32) {
        data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            guard var next = buffer.baseAddress else { return }
            var remaining = buffer.count
            while remaining > 0 {
                let written = Foundation.write(descriptor, next, remaining)
                if written > 0 {
                    next += written
                    remaining -= written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    return  // EPIPE, a closed descriptor, a full disk: the output is lost, the run goes on
                }
            }
        }
    }
}
