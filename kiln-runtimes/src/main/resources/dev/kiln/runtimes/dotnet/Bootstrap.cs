// Kiln's bootstrap for .NET functions (dotnet8, dotnet10) on Mono: a Lambda Runtime API client.
//
// It loads the handler named by _HANDLER ("Assembly::Namespace.Type::Method") from
// LAMBDA_TASK_ROOT, then loops: take the next event (GET /next blocks), call the method with the
// event (deserialized into its parameter type, or as a Stream) and an ILambdaContext, and post the
// result (serialized as JSON, or the Stream's bytes) or an error document as AWS's .NET runtime
// writes one: {errorType: the exception's type name, errorMessage, stackTrace}.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Reflection;
using System.Text;
using System.Threading.Tasks;
using System.Web.Script.Serialization;
using Amazon.Lambda.Core;

namespace Kiln.Runtime
{
    sealed class InitException : Exception
    {
        public readonly string ErrorType;
        public InitException(string errorType, string message, Exception cause = null)
            : base(message, cause) { ErrorType = errorType; }
    }

    sealed class Logger : ILambdaLogger
    {
        public void Log(string message) { LambdaLogger.Log(message); }
        public void LogLine(string message) { LambdaLogger.Log(message + "\n"); }
        void Level(string level, string message) { LogLine("[" + level + "] " + message); }
        public void LogTrace(string message) { Level("Trace", message); }
        public void LogDebug(string message) { Level("Debug", message); }
        public void LogInformation(string message) { Level("Information", message); }
        public void LogWarning(string message) { Level("Warning", message); }
        public void LogError(string message) { Level("Error", message); }
        public void LogCritical(string message) { Level("Critical", message); }
    }

    sealed class ClientApplication : IClientApplication
    {
        public string AppPackageName { get; set; }
        public string AppTitle { get; set; }
        public string AppVersionCode { get; set; }
        public string AppVersionName { get; set; }
        public string InstallationId { get; set; }
    }

    sealed class ClientContext : IClientContext
    {
        public IDictionary<string, string> Environment { get; set; }
        public IClientApplication Client { get; set; }
        public IDictionary<string, string> Custom { get; set; }
    }

    sealed class CognitoIdentity : ICognitoIdentity
    {
        public string IdentityId { get; set; }
        public string IdentityPoolId { get; set; }
    }

    sealed class Context : ILambdaContext
    {
        public long DeadlineMs;
        public string AwsRequestId { get; set; }
        public IClientContext ClientContext { get; set; }
        public string FunctionName { get; set; }
        public string FunctionVersion { get; set; }
        public ICognitoIdentity Identity { get; set; }
        public string InvokedFunctionArn { get; set; }
        public ILambdaLogger Logger { get; set; }
        public string LogGroupName { get; set; }
        public string LogStreamName { get; set; }
        public int MemoryLimitInMB { get; set; }
        public TimeSpan RemainingTime
        {
            get
            {
                long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                return TimeSpan.FromMilliseconds(Math.Max(0, DeadlineMs - now));
            }
        }
    }

    static class Program
    {
        static readonly JavaScriptSerializer Json = new JavaScriptSerializer { MaxJsonLength = int.MaxValue };
        static string api;

        static int Main()
        {
            api = "http://" + Environment.GetEnvironmentVariable("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime";
            ServicePointManager.DefaultConnectionLimit = 4;
            Handler handler;
            try
            {
                handler = Handler.Load(Environment.GetEnvironmentVariable("_HANDLER") ?? "");
            }
            catch (InitException e)
            {
                Post("/init/error", ErrorDocument(e.ErrorType, e.Message, e.InnerException ?? e), e.ErrorType);
                return 1;
            }
            catch (Exception e)
            {
                Exception cause = Unwrap(e);
                Post("/init/error", ErrorDocument(cause.GetType().Name, cause.Message, cause), cause.GetType().Name);
                return 1;
            }
            var logger = new Logger();
            while (true)
            {
                var request = NewRequest("/invocation/next", "GET");
                string requestId;
                byte[] payload;
                Context context;
                using (var response = (HttpWebResponse)request.GetResponse())
                {
                    requestId = response.Headers["Lambda-Runtime-Aws-Request-Id"];
                    context = new Context
                    {
                        AwsRequestId = requestId,
                        DeadlineMs = long.Parse(response.Headers["Lambda-Runtime-Deadline-Ms"] ?? "0"),
                        InvokedFunctionArn = response.Headers["Lambda-Runtime-Invoked-Function-Arn"],
                        FunctionName = Environment.GetEnvironmentVariable("AWS_LAMBDA_FUNCTION_NAME"),
                        FunctionVersion = Environment.GetEnvironmentVariable("AWS_LAMBDA_FUNCTION_VERSION"),
                        LogGroupName = Environment.GetEnvironmentVariable("AWS_LAMBDA_LOG_GROUP_NAME"),
                        LogStreamName = Environment.GetEnvironmentVariable("AWS_LAMBDA_LOG_STREAM_NAME"),
                        MemoryLimitInMB = int.Parse(Environment.GetEnvironmentVariable("AWS_LAMBDA_FUNCTION_MEMORY_SIZE") ?? "128"),
                        Logger = logger,
                        ClientContext = ParseClientContext(response.Headers["Lambda-Runtime-Client-Context"]),
                        Identity = ParseIdentity(response.Headers["Lambda-Runtime-Cognito-Identity"]),
                    };
                    string trace = response.Headers["Lambda-Runtime-Trace-Id"];
                    if (trace != null) Environment.SetEnvironmentVariable("_X_AMZN_TRACE_ID", trace);
                    using (var body = response.GetResponseStream())
                    using (var buffer = new MemoryStream())
                    {
                        body.CopyTo(buffer);
                        payload = buffer.ToArray();
                    }
                }
                try
                {
                    byte[] result = handler.Invoke(payload, context);
                    Post("/invocation/" + requestId + "/response", result, null);
                }
                catch (Exception e)
                {
                    Exception cause = Unwrap(e);
                    Console.Out.Flush();
                    Post("/invocation/" + requestId + "/error",
                        ErrorDocument(cause.GetType().Name, cause.Message, cause), "Function<" + cause.GetType().Name + ">");
                }
            }
        }

        static Exception Unwrap(Exception e)
        {
            while (true)
            {
                if (e is TargetInvocationException && e.InnerException != null) { e = e.InnerException; continue; }
                var aggregate = e as AggregateException;
                if (aggregate != null && aggregate.InnerExceptions.Count == 1) { e = aggregate.InnerExceptions[0]; continue; }
                return e;
            }
        }

        static IClientContext ParseClientContext(string json)
        {
            if (string.IsNullOrEmpty(json)) return null;
            try
            {
                var doc = Json.Deserialize<Dictionary<string, object>>(json);
                var context = new ClientContext
                {
                    Environment = Strings(doc, "env"),
                    Custom = Strings(doc, "custom"),
                };
                object client;
                if (doc.TryGetValue("client", out client) && client is Dictionary<string, object>)
                {
                    var c = (Dictionary<string, object>)client;
                    context.Client = new ClientApplication
                    {
                        AppPackageName = Str(c, "app_package_name"),
                        AppTitle = Str(c, "app_title"),
                        AppVersionCode = Str(c, "app_version_code"),
                        AppVersionName = Str(c, "app_version_name"),
                        InstallationId = Str(c, "installation_id"),
                    };
                }
                return context;
            }
            catch (Exception) { return null; }
        }

        static ICognitoIdentity ParseIdentity(string json)
        {
            if (string.IsNullOrEmpty(json)) return null;
            try
            {
                var doc = Json.Deserialize<Dictionary<string, object>>(json);
                return new CognitoIdentity { IdentityId = Str(doc, "cognitoIdentityId"), IdentityPoolId = Str(doc, "cognitoIdentityPoolId") };
            }
            catch (Exception) { return null; }
        }

        static string Str(Dictionary<string, object> d, string key)
        {
            object v;
            return d.TryGetValue(key, out v) && v != null ? v.ToString() : null;
        }

        static IDictionary<string, string> Strings(Dictionary<string, object> d, string key)
        {
            object v;
            var result = new Dictionary<string, string>();
            if (d.TryGetValue(key, out v) && v is Dictionary<string, object>)
                foreach (var e in (Dictionary<string, object>)v) result[e.Key] = e.Value == null ? null : e.Value.ToString();
            return result;
        }

        internal static byte[] ErrorDocument(string type, string message, Exception e)
        {
            var trace = (e != null && e.StackTrace != null)
                ? e.StackTrace.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToArray()
                : new string[0];
            var doc = new Dictionary<string, object>
            {
                { "errorType", type },
                { "errorMessage", message },
                { "stackTrace", trace },
            };
            return Encoding.UTF8.GetBytes(Json.Serialize(doc));
        }

        static HttpWebRequest NewRequest(string path, string method)
        {
            var request = (HttpWebRequest)WebRequest.Create(api + path);
            request.Method = method;
            request.Proxy = null;
            request.KeepAlive = true;
            request.Timeout = System.Threading.Timeout.Infinite;
            request.ReadWriteTimeout = System.Threading.Timeout.Infinite;
            return request;
        }

        static void Post(string path, byte[] body, string errorType)
        {
            var request = NewRequest(path, "POST");
            request.ContentType = "application/json";
            if (errorType != null) request.Headers["Lambda-Runtime-Function-Error-Type"] = errorType;
            request.ContentLength = body.Length;
            using (var stream = request.GetRequestStream()) stream.Write(body, 0, body.Length);
            try
            {
                using (var response = request.GetResponse()) { }
            }
            catch (WebException e)
            {
                if (e.Response != null) e.Response.Close();
                Console.Error.WriteLine("Kiln runtime: POST " + path + " failed: " + e.Message);
            }
        }
    }

    /// <summary>The handler method, its instance and how to read its input and write its output.</summary>
    sealed class Handler
    {
        static readonly JavaScriptSerializer Json = new JavaScriptSerializer { MaxJsonLength = int.MaxValue };
        MethodInfo method;
        object target;
        ILambdaSerializer serializer;

        internal static Handler Load(string handlerString)
        {
            string[] parts = handlerString.Split(new[] { "::" }, StringSplitOptions.None);
            if (parts.Length != 3 || parts.Any(p => p.Length == 0))
                throw new InitException("Runtime.MalformedHandlerName",
                    "The handler string '" + handlerString + "' is not in the format 'Assembly::Namespace.Type::Method'");
            string root = Environment.GetEnvironmentVariable("LAMBDA_TASK_ROOT") ?? Directory.GetCurrentDirectory();
            AppDomain.CurrentDomain.AssemblyResolve += (sender, args) =>
            {
                string name = new AssemblyName(args.Name).Name;
                if (name == "Amazon.Lambda.Core") return typeof(ILambdaContext).Assembly;
                string candidate = Path.Combine(root, name + ".dll");
                return File.Exists(candidate) ? Assembly.LoadFrom(candidate) : null;
            };
            string file = Path.Combine(root, parts[0] + ".dll");
            if (!File.Exists(file))
                throw new InitException("LambdaException",
                    "Could not find the specified handler assembly with the file name '" + parts[0] + ".dll'. The assembly should be located in the root of your uploaded .zip file.");
            Assembly assembly = Assembly.LoadFrom(file);
            Type type = assembly.GetType(parts[1]);
            if (type == null)
                throw new InitException("LambdaException",
                    "Unable to load type '" + parts[1] + "' from assembly '" + parts[0] + "'.");
            var candidates = type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static)
                .Where(m => m.Name == parts[2]).ToArray();
            if (candidates.Length == 0)
                throw new InitException("LambdaException",
                    "Unable to find method '" + parts[2] + "' in type '" + parts[1] + "' from assembly '" + parts[0] + "': Found 0 methods with matching name.");
            if (candidates.Length > 1)
                throw new InitException("LambdaException",
                    "The method '" + parts[2] + "' in type '" + parts[1] + "' has " + candidates.Length + " overloads; Lambda needs exactly one.");
            var handler = new Handler { method = candidates[0] };
            if (handler.method.GetParameters().Length > 2)
                throw new InitException("LambdaException",
                    "Handler '" + handlerString + "' has more than two parameters: Lambda passes the input and an ILambdaContext.");
            if (!handler.method.IsStatic) handler.target = Activator.CreateInstance(type);
            var attribute = (LambdaSerializerAttribute)(handler.method.GetCustomAttribute(typeof(LambdaSerializerAttribute))
                ?? assembly.GetCustomAttribute(typeof(LambdaSerializerAttribute)));
            if (attribute != null)
            {
                try { handler.serializer = (ILambdaSerializer)Activator.CreateInstance(attribute.SerializerType); }
                catch (Exception e)
                {
                    Console.Out.WriteLine("Kiln runtime: cannot use serializer " + attribute.SerializerType + " (" + e.Message + "); using Kiln's JSON serializer instead");
                }
            }
            return handler;
        }

        internal byte[] Invoke(byte[] payload, ILambdaContext context)
        {
            ParameterInfo[] parameters = method.GetParameters();
            var args = new object[parameters.Length];
            for (int i = 0; i < parameters.Length; i++)
            {
                Type t = parameters[i].ParameterType;
                if (typeof(ILambdaContext).IsAssignableFrom(t)) args[i] = context;
                else args[i] = Read(payload, t);
            }
            object result = method.Invoke(target, args);
            Type returnType = method.ReturnType;
            if (result is Task)
            {
                var task = (Task)result;
                task.GetAwaiter().GetResult();
                if (returnType.IsGenericType)
                {
                    returnType = returnType.GetGenericArguments()[0];
                    result = task.GetType().GetProperty("Result").GetValue(task);
                }
                else
                {
                    returnType = typeof(void);
                    result = null;
                }
            }
            Console.Out.Flush();
            if (returnType == typeof(void)) return new byte[0];
            return Write(result, returnType);
        }

        object Read(byte[] payload, Type type)
        {
            if (typeof(Stream).IsAssignableFrom(type)) return new MemoryStream(payload, false);
            if (serializer != null)
            {
                var generic = typeof(ILambdaSerializer).GetMethod("Deserialize").MakeGenericMethod(type);
                return generic.Invoke(serializer, new object[] { new MemoryStream(payload, false) });
            }
            string json = Encoding.UTF8.GetString(payload);
            if (json.Trim().Length == 0 || json.Trim() == "null") return type.IsValueType ? Activator.CreateInstance(type) : null;
            return Json.Deserialize(json, type);
        }

        byte[] Write(object result, Type type)
        {
            var stream = result as Stream;
            if (stream != null)
            {
                using (var buffer = new MemoryStream()) { stream.CopyTo(buffer); return buffer.ToArray(); }
            }
            if (serializer != null)
            {
                using (var buffer = new MemoryStream())
                {
                    var generic = typeof(ILambdaSerializer).GetMethod("Serialize").MakeGenericMethod(type);
                    generic.Invoke(serializer, new object[] { result, buffer });
                    return buffer.ToArray();
                }
            }
            return Encoding.UTF8.GetBytes(Json.Serialize(result));
        }
    }
}
