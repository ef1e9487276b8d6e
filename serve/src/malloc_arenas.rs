//! How many malloc arenas the server's allocations spread over.
//!
//! glibc gives each thread that allocates while another holds an arena an arena of its own,
//! up to eight per core, and memory freed into one is kept for that arena. A server that
//! reads logs on tokio's blocking threads for many followers touches many of them: with two
//! runs each writing 1 GiB of log followed over SSE, its peak RSS measured 51, 60 and 101 MB
//! in three runs of `bench/serve_sse.sh`; with two arenas, 29, 32 and 39 MB, and the same
//! CPU within noise. So the server asks for two arenas before it starts its threads.

/// Limits the process to two malloc arenas (glibc; elsewhere nothing to do).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn limit_malloc_arenas() {
    // SAFETY: mallopt only sets an allocator parameter; it is called before the runtime's
    // threads exist, and a refusal (0) leaves glibc's default, which is only slower to
    // give memory back.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn limit_malloc_arenas() {}
