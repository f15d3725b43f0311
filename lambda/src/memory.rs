//! Keeps the engine's working memory mapped from one image to the next.
//!
//! glibc hands large freed blocks back to the kernel (anything over its mmap threshold, and the top
//! of the heap once it passes the trim threshold), so a warm function faulted its image buffers in
//! afresh on every invocation: about 2,950 page faults and 6 of the 26 ms it took to resize an 8 MP
//! photo (bench/FINDINGS.md). With both thresholds raised the same pages serve the next
//! image. Blocks over 32 MiB (glibc's ceiling for the mmap threshold: a 12 MP RGBA buffer) are still
//! mapped per use and returned, so a rare huge image does not stay resident.

/// glibc's maximum on 64-bit (`DEFAULT_MMAP_THRESHOLD_MAX`); larger values are refused.
pub const MMAP_THRESHOLD: usize = 32 << 20;
/// Free memory at the top of the heap kept for the next image rather than returned.
pub const TRIM_THRESHOLD: usize = 128 << 20;

/// Applies the thresholds above; `false` if the C library refused them (or is not glibc).
/// Call it first thing in `main`, before any thread starts allocating.
pub fn keep_buffers_between_images() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only sets allocator parameters; both values are in glibc's valid range.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD as libc::c_int) == 1
                && libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD as libc::c_int) == 1
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn glibc_accepts_the_thresholds() {
        assert!(keep_buffers_between_images());
    }
}
