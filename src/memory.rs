//! The process's memory: the system allocator, with its largest blocks on huge pages.
//!
//! A run over millions of records fills a few very large lists (a column of rows, the
//! encounters, the derived courses) once each. The kernel gives fresh memory a 4 KiB page at
//! a time, each on its own fault: at 2,000,000 courses about 460,000 faults, a quarter of
//! all processor time. A 2 MiB huge page takes one fault for 512 of them. The kernel gives
//! huge pages only where asked (`transparent_hugepage` set to `madvise`, the usual default)
//! or everywhere (`always`); this allocator asks for the blocks of at least [`HUGE`] bytes,
//! which are filled from end to end, so the memory they hold grows by at most one partly used
//! huge page each. Smaller blocks are not advised (under `always` the kernel puts them on
//! huge pages anyway). Elsewhere than on Linux the allocator is the system's as it is.
//!
//! The advice is advice only: it never changes what memory holds. glibc gives a block this
//! large a mapping of its own (prolo sets that threshold to 8 MiB: [`configure`]), and the
//! advice covers exactly that mapping. Should glibc serve one from its heap instead (a free
//! chunk large enough, a block grown in place, the system refusing a new mapping), the
//! advice also covers the heap's pages beside it, which may then be given huge pages later
//! too.

use std::alloc::{GlobalAlloc, Layout, System};

/// The smallest block put on huge pages (32 MiB).
pub const HUGE: usize = 32 << 20;

/// Blocks at least this large get a mapping of their own from glibc, given back when freed
/// (8 MiB).
pub const MMAP_THRESHOLD: usize = 8 << 20;

/// A heap's free memory at its top is given back to the system once it reaches this much
/// (32 MiB).
pub const TRIM_THRESHOLD: usize = 32 << 20;

/// Sets glibc's thresholds for the process (Linux with glibc; nothing elsewhere). Call it
/// first thing in `main`, before any other thread starts: `mallopt` is not meant to race
/// with allocations.
///
/// glibc serves a large allocation with its own mapping, given back when it is freed, but
/// raises the size it calls large (up to 32 MiB) each time such a mapping is freed; blocks
/// below it then come from a heap, which keeps freed memory. A fixed [`MMAP_THRESHOLD`] keeps
/// what prolo lets go of in large pieces (a part's rows as they are joined, the points after
/// the trajectory, the analyses' lists) given back, while smaller working lists still reuse
/// a heap's memory.
///
/// Fixing that threshold also stops glibc from raising its trim threshold with it, which
/// then stays at its default, 128 KiB: each thread's heap gave back any free stretch above
/// that at its top, so one analysis's working lists were given back and faulted in again by
/// the next, a third of a run's page faults. With [`TRIM_THRESHOLD`] a heap gives its top
/// back only once 32 MiB of it are free (then down to glibc's small pad): at 2,000,000
/// courses 220,000 → 151,000 page faults, `analyze` 1.79–1.83 → 1.64–1.68 s, peak memory
/// 467 → 476 MiB (README, Performance).
pub fn configure() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt sets glibc's allocator parameters; the caller runs it before any other
    // thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD as libc::c_int);
        libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD as libc::c_int);
    }
}

/// The system allocator; blocks of at least [`HUGE`] bytes asked to be on huge pages.
pub struct Allocator;

// SAFETY: every call is passed to the system allocator unchanged; `advise` only gives the
// kernel advice about the pages of a block the system allocator has just handed out (and
// of memory beside it on the same pages or in the same heap), which changes no contents.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's guarantees for `alloc` are those of `System.alloc`.
        let block = unsafe { System.alloc(layout) };
        advise(block, layout);
        block
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let block = unsafe { System.alloc_zeroed(layout) };
        advise(block, layout);
        block
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        // SAFETY: `block` came from `System` (every block here does) with `layout`.
        unsafe { System.dealloc(block, layout) }
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`; the caller's guarantees for `size` are those of
        // `System.realloc`.
        let moved = unsafe { System.realloc(block, layout, size) };
        if let Ok(grown) = Layout::from_size_align(size, layout.align()) {
            advise(moved, grown);
        }
        moved
    }
}

/// Asks the kernel to back `block`, allocated with `layout`, with huge pages when it is at
/// least [`HUGE`] bytes (Linux; nothing elsewhere). A kernel without huge pages refuses, which
/// changes nothing (and `errno` is left as it was).
///
/// The advice runs from the page the block starts on to the end of its usable size
/// (`malloc_usable_size`): for a block with a mapping of its own, glibc's bookkeeping sits in
/// the mapping's first bytes and the usable size reaches its last page, so the advice covers
/// the whole mapping. Advice on part of a mapping splits it in two or three, and glibc grows a
/// block by moving its mapping (`mremap`), which works on one mapping only: with a split
/// mapping it copied the block instead, the old and the new both held (a 148 MB summary.json
/// took 264 MB). A block aligned beyond 16 bytes may start pages into its mapping: it is not
/// advised (Rust grows such blocks by copying them anyway).
fn advise(block: *mut u8, layout: Layout) {
    #[cfg(target_os = "linux")]
    if layout.size() >= HUGE && layout.align() <= 16 && !block.is_null() {
        // SAFETY: sysconf only reads a system setting; malloc_usable_size reads the header of
        // a live block glibc handed out (Rust's System allocator is glibc's malloc for this
        // alignment); errno is read and written on this thread only.
        unsafe {
            let page = match libc::sysconf(libc::_SC_PAGESIZE) {
                p if p > 0 => p as usize,
                _ => return,
            };
            let usable = libc::malloc_usable_size(block.cast()).max(layout.size());
            let begin = block as usize / page * page;
            let end = (block as usize + usable).next_multiple_of(page);
            let errno = *libc::__errno_location();
            // SAFETY (madvise): MADV_HUGEPAGE changes how pages are backed, never their
            // contents, and does not allocate.
            libc::madvise(begin as *mut libc::c_void, end - begin, libc::MADV_HUGEPAGE);
            *libc::__errno_location() = errno;
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (block, layout);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_small_and_huge_hold_what_is_written() {
        for size in [2, 4096, HUGE - 1, HUGE, HUGE + 12345] {
            let layout = Layout::from_size_align(size, 8).unwrap();
            // SAFETY: a layout of non-zero size; the block is written inside its size, read
            // back, grown, read again and freed with the layout it has.
            unsafe {
                let block = Allocator.alloc_zeroed(layout);
                assert!(!block.is_null());
                assert_eq!(*block.add(size - 1), 0);
                block.write(7);
                block.add(size - 1).write(9);
                let grown = Allocator.realloc(block, layout, size * 2 + HUGE);
                assert!(!grown.is_null());
                assert_eq!((*grown, *grown.add(size - 1)), (7, 9));
                Allocator.dealloc(grown, Layout::from_size_align(size * 2 + HUGE, 8).unwrap());
            }
        }
    }

    /// The mapping of the memory at `at` in /proc/self/maps: (start, end).
    #[cfg(target_os = "linux")]
    fn mapping_of(at: usize) -> (usize, usize) {
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        (maps.lines())
            .filter_map(|l| {
                let (a, b) = l.split_whitespace().next()?.split_once('-')?;
                let range = (
                    usize::from_str_radix(a, 16).ok()?,
                    usize::from_str_radix(b, 16).ok()?,
                );
                (range.0 <= at && at < range.1).then_some(range)
            })
            .next()
            .unwrap()
    }

    /// A large block's mapping stays one mapping after the advice, from its first page to
    /// the end of its usable size (advice on part of it split it, and glibc then grew it by
    /// copying, holding the old and the new block at once). Sizes whose last bytes fall
    /// within 23 bytes of a page's end left the mapping's last page unadvised when the advice
    /// ended at the block's size.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_huge_block_is_one_mapping() {
        for size in [HUGE + 3 * 4096 + 100, HUGE + 4073, HUGE + 4080, HUGE + 4096] {
            let layout = Layout::from_size_align(size, 8).unwrap();
            // SAFETY: a layout of non-zero size, freed with the layout it has; the usable
            // size is read from a live block.
            unsafe {
                let block = Allocator.alloc(layout);
                assert!(!block.is_null());
                let usable = libc::malloc_usable_size(block.cast());
                let first = block as usize / 4096 * 4096;
                let last = (block as usize + usable).next_multiple_of(4096);
                let (start, end) = mapping_of(block as usize);
                assert!(
                    start <= first && end >= last,
                    "{start:x}-{end:x} for {first:x}-{last:x} ({size} bytes)"
                );
                Allocator.dealloc(block, layout);
            }
        }
    }
}
