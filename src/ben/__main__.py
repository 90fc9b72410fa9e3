from ben.cli import main

main()
