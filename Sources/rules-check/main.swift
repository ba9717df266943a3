import OmbudsCLI

await runMain(RulesCheckCommand.self)
