import NetStack
