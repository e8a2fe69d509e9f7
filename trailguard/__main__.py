from trailguard.cli import main

main()
