from Crypto.Util.number import *

m = bytes_to_long(open("flag.txt", "rb").read())
print(pow(m, 3, n))
