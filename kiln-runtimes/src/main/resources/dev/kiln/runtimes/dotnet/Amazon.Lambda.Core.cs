// Kiln's own Amazon.Lambda.Core: the interfaces a .NET Lambda handler is written against
// (ILambdaContext, ILambdaLogger, LambdaLogger, ILambdaSerializer, LambdaSerializerAttribute),
// with the same names and members as AWS's package, so that handler code compiles and runs
// unchanged on Kiln's Mono runtime. Written for Kiln from the public API; no AWS code.
using System;
using System.Collections.Generic;
using System.IO;

[assembly: System.Reflection.AssemblyVersion("2.5.0.0")]

namespace Amazon.Lambda.Core
{
    public interface ILambdaLogger
    {
        void Log(string message);
        void LogLine(string message);
        void LogTrace(string message);
        void LogDebug(string message);
        void LogInformation(string message);
        void LogWarning(string message);
        void LogError(string message);
        void LogCritical(string message);
    }

    public interface IClientApplication
    {
        string AppPackageName { get; }
        string AppTitle { get; }
        string AppVersionCode { get; }
        string AppVersionName { get; }
        string InstallationId { get; }
    }

    public interface IClientContext
    {
        IDictionary<string, string> Environment { get; }
        IClientApplication Client { get; }
        IDictionary<string, string> Custom { get; }
    }

    public interface ICognitoIdentity
    {
        string IdentityId { get; }
        string IdentityPoolId { get; }
    }

    public interface ILambdaContext
    {
        string AwsRequestId { get; }
        IClientContext ClientContext { get; }
        string FunctionName { get; }
        string FunctionVersion { get; }
        ICognitoIdentity Identity { get; }
        string InvokedFunctionArn { get; }
        ILambdaLogger Logger { get; }
        string LogGroupName { get; }
        string LogStreamName { get; }
        int MemoryLimitInMB { get; }
        TimeSpan RemainingTime { get; }
    }

    public interface ILambdaSerializer
    {
        T Deserialize<T>(Stream requestStream);
        void Serialize<T>(T response, Stream responseStream);
    }

    [AttributeUsage(AttributeTargets.Assembly | AttributeTargets.Method, AllowMultiple = false)]
    public sealed class LambdaSerializerAttribute : Attribute
    {
        public LambdaSerializerAttribute(Type serializerType) { SerializerType = serializerType; }
        public Type SerializerType { get; set; }
    }

    /// <summary>Writes to the function's log, as context.Logger does.</summary>
    public static class LambdaLogger
    {
        public static void Log(string message)
        {
            Console.Out.Write(message);
            Console.Out.Flush();
        }
    }
}
