//! One module per subcommand: the glue between resolved arguments and the library.

pub mod kernel;
pub mod profile;
