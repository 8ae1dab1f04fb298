fn main() -> anyhow::Result<()> {
    azemu::cli::run()
}
