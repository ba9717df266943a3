import OmbudsCLI

await runMain(OmbudsCommand.self)
