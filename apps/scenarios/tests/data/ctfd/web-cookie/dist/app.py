from flask import Flask, request
app = Flask(__name__)

@app.route("/admin")
def admin():
    return "nope" if request.cookies.get("role") != "YWRtaW4=" else open("flag.txt").read()
