//! The issue-9 core throughput workload (see `synod::bench::core_throughput` for its exact definition).
//!
//!     cargo bench --bench core_throughput                     # K ∈ {3, 5}, P ∈ {1, 100, 1000}, N = 200,000
//!     cargo bench --bench core_throughput -- 5 100 200000 5   # nodes, per-round, commands, runs
//!
//! Prints one line per configuration and the process's peak resident memory.
//!
//! glibc serves large vectors with `mmap` and hands them back to the kernel when they are freed, so every fresh
//! run would pay for page faults on ~190 MB of new memory, about a third of its time. A Wasm module's allocator
//! grows its memory once and reuses it, so in the browser runs 2–5 are warm. To measure both the same way, this
//! binary asks glibc to keep freed memory (`mallopt`); `SYNOD_BENCH_COLD=1` skips that, to see the cold numbers.

/// Keep freed memory in the process (no `mmap` for big blocks, no trimming), as Wasm's allocator does.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn keep_freed_memory() {
    // SAFETY: mallopt only sets allocator parameters; it is called before this program allocates in earnest.
    let (mmap, trim) =
        unsafe { (libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20), libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX)) };
    assert!(mmap == 1 && trim == 1, "mallopt refused: mmap {mmap}, trim {trim}");
}

#[cfg(all(not(target_arch = "wasm32"), not(all(target_os = "linux", target_env = "gnu"))))]
fn keep_freed_memory() {}

/// CPU time this thread has used: on a machine shared with other work, comparing two builds by CPU time is
/// steadier than by wall-clock (time slices lost to other processes do not count). Reported numbers are
/// wall-clock.
#[cfg(not(target_arch = "wasm32"))]
fn thread_cpu_seconds() -> f64 {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    assert_eq!(status, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    now.tv_sec as f64 + now.tv_nsec as f64 * 1e-9
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    use synod::bench::core_throughput::run_many;

    let cold = std::env::var_os("SYNOD_BENCH_COLD").is_some();
    if !cold {
        keep_freed_memory();
    }
    println!("allocator: {}", if cold { "glibc defaults (cold runs)" } else { "glibc keeps freed memory" });

    let args: Vec<u64> = std::env::args().skip(1).filter_map(|arg| arg.parse().ok()).collect();
    let configurations: Vec<(usize, u64, u64, usize)> = match args[..] {
        [nodes, per_round, commands, runs] => vec![(nodes as usize, per_round, commands, runs as usize)],
        [] => [5, 3].into_iter().flat_map(|nodes| [1, 100, 1000].map(|p| (nodes, p, 200_000, 5))).collect(),
        _ => panic!("usage: core_throughput [NODES PER_ROUND COMMANDS RUNS]"),
    };
    let cpu_clock = std::env::var_os("SYNOD_BENCH_CPU_TIME").is_some();
    if cpu_clock {
        println!("clock: this thread's CPU time (SYNOD_BENCH_CPU_TIME), not wall-clock");
    }
    let start = std::time::Instant::now();
    let clock = move || if cpu_clock { thread_cpu_seconds() } else { start.elapsed().as_secs_f64() };
    for (nodes, per_round, commands, runs) in configurations {
        println!("{}", run_many(nodes, per_round, commands, runs, &clock));
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak = status.lines().find(|line| line.starts_with("VmHWM")).unwrap_or("VmHWM: unknown");
    println!("peak resident memory {}", peak.trim_start_matches("VmHWM:").trim());
}

#[cfg(target_arch = "wasm32")]
fn main() {}
