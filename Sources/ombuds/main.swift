import OmbudsCLI

runMain(OmbudsCommand.self)
