import OmbudsCLI

runMain(RulesCheckCommand.self)
