/// mimalloc: the request path allocates many small, short-lived buffers, which it serves
/// markedly faster than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    azemu::cli::run()
}
