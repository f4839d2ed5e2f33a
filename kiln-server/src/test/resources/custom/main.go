// A custom runtime in Go, with the standard library only: what aws-lambda-go does, by hand.
package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
)

func main() {
	api := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime"
	for {
		res, err := http.Get(api + "/invocation/next")
		if err != nil {
			os.Exit(1)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		id := res.Header.Get("Lambda-Runtime-Aws-Request-Id")
		var event map[string]interface{}
		json.Unmarshal(body, &event)
		if event["fail"] == true {
			doc, _ := json.Marshal(map[string]string{"errorMessage": "asked to fail", "errorType": "GoError"})
			req, _ := http.NewRequest("POST", api+"/invocation/"+id+"/error", bytes.NewReader(doc))
			req.Header.Set("Lambda-Runtime-Function-Error-Type", "GoError")
			r, _ := http.DefaultClient.Do(req)
			r.Body.Close()
			continue
		}
		out, _ := json.Marshal(map[string]interface{}{
			"go":       true,
			"handler":  os.Getenv("_HANDLER"),
			"function": os.Getenv("AWS_LAMBDA_FUNCTION_NAME"),
			"arn":      res.Header.Get("Lambda-Runtime-Invoked-Function-Arn"),
			"deadline": res.Header.Get("Lambda-Runtime-Deadline-Ms"),
			"event":    event,
		})
		r, _ := http.Post(api+"/invocation/"+id+"/response", "application/json", bytes.NewReader(out))
		r.Body.Close()
	}
}
