//! The runtime's last resort: `fatal` prints a message about a broken
//! contract (memory system misuse, an internal invariant) and aborts, and
//! `describe_site` turns an allocation-site index into "file:line:col" for
//! such messages. It sits at the bottom floor because every floor needs it
//! and it needs nothing but the atomics policy.

use crate::base::atomics::PublishedPtr;
use std::fmt;

/// Print a fatal runtime error about the memory system and abort. Used for
/// contract violations that would otherwise corrupt memory silently.
#[cold]
pub fn fatal(args: fmt::Arguments<'_>) -> ! {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = writeln!(std::io::stderr().lock(), "omni runtime fatal: {args}");
    std::process::abort()
}

crate::base::atomics::runtime_static!(SITE_RESOLVER: PublishedPtr<()> = PublishedPtr::new(); fn site_resolver);

/// Let the start-up code describe allocation sites (`AllocSite` → "file:line:col").
pub fn set_site_resolver(f: fn(u32) -> Option<String>) {
    site_resolver().ptr_publish_once(f as *mut ());
}

pub fn describe_site(site: u32) -> String {
    if site == 0 {
        return "unknown".into();
    }
    let f = site_resolver().ptr_load();
    if !f.is_null() {
        // SAFETY: only `set_site_resolver` publishes into SITE_RESOLVER, and
        // it stores a `fn(u32) -> Option<String>`.
        let f: fn(u32) -> Option<String> = unsafe { std::mem::transmute(f) };
        if let Some(s) = f(site) {
            return s;
        }
    }
    format!("site {site}")
}
