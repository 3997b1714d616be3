//! One module per subcommand: the glue between resolved arguments and the library.

pub mod bench;
pub mod kernel;
