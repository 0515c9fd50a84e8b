from weiwen.cli import main

main()
