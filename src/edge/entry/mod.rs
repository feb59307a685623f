//! The worker's entry points, the top of the shell: each build has its own
//! (`redirect` for the `redirect-only` build, `full` for the full worker).
//! Only they may import every domain of the shell.

#[cfg(full)]
pub mod full;
#[cfg(not(full))]
pub mod redirect;
